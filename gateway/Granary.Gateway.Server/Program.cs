using Granary.Clustering.PostgreSql;
using Microsoft.Extensions.Configuration.Memory;
using Granary.Gateway;
using Granary.Gateway.Catalog;
using Granary.Gateway.Server;
using Granary.Grains.Client;
using Granary.Repository;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

// The gateway in its own process: an Orleans client of the cluster the PostgreSQL membership table describes.
// Settings from granary.yaml (Granary:RepositoryRoot=<dir>: project and endpoints), overridden by appsettings.json, env
// (Granary__Gateway__...) or the command line (--Granary:Gateway:RestPort=7000).
var builder = WebApplication.CreateBuilder(args);
// Log levels by default: warnings and errors only (no line per request), plus the host's start-up lines (its addresses).
// The first configuration source, so appsettings.json, env (Logging__LogLevel__Default=Information) and --Logging:... override it.
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
    },
});
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });

var cluster = builder.Configuration.GetSection(GatewayClusterOptions.SectionName).Get<GatewayClusterOptions>() ?? new GatewayClusterOptions();
var timings = builder.Configuration.GetSection(ClusterClientTimingOptions.Section).Get<ClusterClientTimingOptions>() ?? new ClusterClientTimingOptions();
var problems = new GatewayClusterOptionsValidator().Validate(null, cluster).Failures ?? [];
problems = [.. problems, .. new ClusterClientTimingOptionsValidator().Validate(null, timings).Failures ?? []];
if (problems.Any())
{
    foreach (var failure in problems) Console.Error.WriteLine(failure);
    return 2;
}

builder.UseOrleansClient(client =>
{
    client.UseGranaryPostgresClustering(cluster.ConnectionString);
    client.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = cluster.ClusterId;
        o.ServiceId = cluster.ServiceId ?? cluster.ClusterId;
    });
    // Granary's serializers and failover timings (Granary:Client: response timeout, gateway list refresh).
    client.AddGranaryClient();
    // The Orleans dashboard at /dashboard, fed by the silos' dashboard grains (Granary.Silo adds them).
    client.AddGranaryDashboard();
});
// Given the repository (Granary:RepositoryRoot, as the silos take it), its granary.yaml gives the project and the endpoints,
// and any Granary:Gateway setting overrides them.
RepositoryConfig? repository = null;
if (builder.Configuration["Granary:RepositoryRoot"] is { Length: > 0 } repositoryRoot)
{
    try
    {
        repository = RepositoryConfig.Load(repositoryRoot);
    }
    catch (RepositoryValidationException e)
    {
        Console.Error.WriteLine($"Granary:RepositoryRoot '{repositoryRoot}': {e.Message}");
        return 2;
    }
}
builder.Services.AddGranaryGateway(builder.Configuration, repository: repository);

var app = builder.Build();
app.MapGranaryGateway();
try
{
    if (!app.Services.GetRequiredService<IOptions<Granary.Gateway.GatewayOptions>>().Value.Security.Authorization)
        Console.Error.WriteLine("WARNING: AUTHORIZATION IS OFF (Granary:Gateway:Security:Authorization=false or security: {authorization: off}): anyone who reaches this gateway can read, push and materialize without credentials.");
}
catch (OptionsValidationException e)
{
    foreach (var failure in e.Failures) Console.Error.WriteLine(failure);
    return 2;
}
try
{
    await app.RunAsync();
}
catch (OptionsValidationException e)
{
    foreach (var failure in e.Failures) Console.Error.WriteLine(failure);
    return 2;
}
return 0;
