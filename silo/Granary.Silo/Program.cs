using System.Reflection;
using Granary.Clustering.PostgreSql;
using Granary.Hosting;
using Granary.Repository;
using Granary.Persistence.Redis;
using Granary.Runtime.Cluster.Hosting;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Reminders;
using Granary.Runtime.Hosting;
using Granary.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

SiloSettings settings;
try
{
    settings = SiloSettings.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var builder = Host.CreateApplicationBuilder(args.Where(a => a.Contains('=')).ToArray());
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.UseGranary(silo =>
{
    if (settings.Repo is { } repo)
    {
        // The registry, offline stores and transform catalog named by the repository's granary.yaml.
        silo.AddGranaryFeatureStore(RepositoryConfig.Load(repo), repo);
    }
    else
    {
        silo.AddGrainsFromAssembly(Assembly.Load("Granary.Grains"));
    }
    if (settings.Redis is { } redis)
    {
        silo.AddRedisGrainStorageAsDefault(o =>
        {
            o.ConnectionString = redis;
            o.KeyPrefix = settings.ClusterId;
        });
    }
    else
    {
        silo.AddMemoryGrainStorageAsDefault();
    }
    silo.UseCluster(o =>
    {
        o.ClusterId = settings.ClusterId;
        o.SiloHost = settings.Host;
        o.SiloPort = settings.Port;
        o.SiloName = settings.Name;
    });
    if (settings.Postgres is { } postgres)
    {
        silo.UsePostgreSqlClustering(postgres).UsePostgreSqlReminders(postgres);
    }
    else
    {
        silo.UseInMemoryClustering(new InMemoryMembershipTable()).UseInMemoryReminders(new InMemoryReminderTable());
    }
});

using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Granary.Silo");
if (settings.Redis is null) logger.LogWarning("No --redis given: grain state lives in this process's memory and is lost when the silo stops.");
if (settings.Postgres is null) logger.LogWarning("No --postgres given: this silo runs alone (in-memory membership); other silos cannot join it.");

var exitCode = 0;
var cluster = host.Services.GetRequiredService<ClusterSilo>();
cluster.DeclaredDead += reason =>
{
    // Orleans' rule: a silo declared dead by its peers must not keep serving.
    logger.LogCritical("{Reason}; exiting.", reason);
    exitCode = 3;
    host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
};
try
{
    await host.RunAsync();
}
catch (ClusterJoinException e)
{
    // Joining would split the cluster's view: say which silos were unreachable and stop with a distinct code.
    logger.LogCritical("{Message}", e.Message);
    return 4;
}
return exitCode;
