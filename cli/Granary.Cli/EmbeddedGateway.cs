using Granary.Gateway;
using Granary.Gateway.Catalog;
using Granary.Hosting;
using Granary.Online;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Cli;

/// <summary>
/// The gateway co-hosted with an <see cref="EmbeddedFeatureStore"/> in one process (<c>granary serve</c>, tests): it calls
/// the silo's grains directly (no client hop) and probes the silo's online store for health.
/// </summary>
public sealed class EmbeddedGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedGateway(WebApplication app, GatewayOptions options, string restUrl, string grpcUrl, string? webUrl)
    {
        _app = app;
        Options = options;
        RestUrl = restUrl;
        GrpcUrl = grpcUrl;
        WebUrl = webUrl;
    }

    /// <summary>The options it runs with.</summary>
    public GatewayOptions Options { get; }

    /// <summary>The REST endpoint's base address, e.g. <c>http://127.0.0.1:6566</c>.</summary>
    public string RestUrl { get; }

    /// <summary>The gRPC endpoint's base address (HTTP/2 only).</summary>
    public string GrpcUrl { get; }

    /// <summary>The browser-safe web endpoint's base address (<c>/ui</c>, <c>/dashboard</c>, ...), e.g. <c>http://127.0.0.1:8888</c>; null when it is off.</summary>
    public string? WebUrl { get; }

    /// <summary>The gateway's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts the gateway over <paramref name="store"/>'s silo; the project and the endpoints (<c>endpoints:</c> of
    /// granary.yaml) default to the repository's, and <paramref name="configure"/> overrides them.
    /// </summary>
    public static async Task<EmbeddedGateway> StartAsync(EmbeddedFeatureStore store, Action<GatewayOptions>? configure = null,
        LogLevel minimumLogLevel = LogLevel.Warning, Action<IServiceCollection>? services = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = store.RepositoryRoot, EnvironmentName = Environments.Production, Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(minimumLogLevel);
        if (minimumLogLevel != LogLevel.None) builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.AddSingleton(store.Grains);
        builder.Services.AddSingleton(store.Services.GetRequiredService<IOnlineStore>());
        // The Orleans dashboard, when the silo collects its statistics (GatewayDashboard.AddGranaryDashboard on the silo).
        if (GatewayDashboard.SiloCollectsStatistics(store.Services))
        {
            builder.Services.AddSingleton(store.Services.GetRequiredService<IClusterClient>());
            builder.Services.AddGranaryDashboard(builder.Configuration);
        }
        builder.Services.AddGranaryGateway(builder.Configuration, o =>
        {
            o.Project = store.Config.Project; // the silo holds this project only
            configure?.Invoke(o);
        }, store.Config);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseRouting();
        app.MapGranaryGateway();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        // Addresses in listen order: REST, gRPC, then web when on (see AddGranaryGateway); ports are the real ones when 0 was asked.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        return new EmbeddedGateway(app, options, addresses[0], addresses[1], options.WebEnabled ? addresses[2] : null);
    }

    /// <summary>Stops the gateway (not the silo).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
