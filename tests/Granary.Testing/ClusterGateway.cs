using Granary.Gateway;
using Granary.Grains.Client;
using Granary.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Testing;

/// <summary>
/// The gateway in this process as an Orleans client of silos elsewhere (as granary-gateway runs it), on localhost
/// clustering: it holds no store of its own and reaches everything through the silo's gateway port.
/// </summary>
public sealed class ClusterGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ClusterGateway(WebApplication app, string restUrl, string grpcUrl)
    {
        _app = app;
        RestUrl = restUrl;
        GrpcUrl = grpcUrl;
    }

    /// <summary>http://host:port of the REST endpoint.</summary>
    public string RestUrl { get; }

    /// <summary>http://host:port of the gRPC endpoint.</summary>
    public string GrpcUrl { get; }

    /// <summary>The gateway's services (its grain factory, options, loggers).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The Orleans client's grain factory.</summary>
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts it; <paramref name="configure"/> sets ports (0 = any free one) after the project is set.</summary>
    /// <param name="contentRoot">The gateway's content root (the repository folder).</param>
    /// <param name="siloGatewayPort">The silo's Orleans gateway port.</param>
    /// <param name="clusterId">The silo's cluster and service id.</param>
    /// <param name="project">The project the gateway serves.</param>
    /// <param name="configure">Ports and limits.</param>
    /// <param name="logWarnings">Write warnings and errors to the console (one line each); default no logging.</param>
    public static async Task<ClusterGateway> StartAsync(string contentRoot, int siloGatewayPort, string clusterId, string project,
        Action<GatewayOptions> configure, bool logWarnings = false)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = contentRoot, EnvironmentName = Environments.Production, Args = [] });
        builder.Logging.ClearProviders();
        if (logWarnings) builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.UseLocalhostClustering(siloGatewayPort, serviceId: clusterId, clusterId: clusterId).AddGranaryClient());
        builder.Services.AddGranaryGateway(builder.Configuration, o =>
        {
            o.Project = project;
            // Tests through this gateway test serving, not security: authorization off unless configure turns it on.
            o.Security.Authorization = false;
            configure(o);
        });
        var app = builder.Build();
        app.UseRouting();
        app.MapGranaryGateway();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        // Kestrel lists the addresses in the order the gateway binds them: REST first, then gRPC.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        return new ClusterGateway(app, addresses[0], addresses[1]);
    }

    /// <summary>Stops and disposes it; a silo already gone does not fail the stop.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await _app.StopAsync(); } catch (Exception) { /* the silo may be gone already */ }
        await _app.DisposeAsync();
    }
}
