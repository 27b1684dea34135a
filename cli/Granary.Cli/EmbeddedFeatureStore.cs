using System.Net;
using System.Net.Sockets;
using Granary.Hosting;
using Granary.Repository;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Cli;

/// <summary>
/// A feature store running in this process: one Orleans silo on localhost clustering (free loopback ports, so several
/// can run at once), in-memory reminders and grain state, and the stores the repository's granary.yaml names (every engine is registered; hosting opens the named ones).
/// The CLI runs the commands that need grains in one; tests use it as a real silo.
/// </summary>
public sealed class EmbeddedFeatureStore : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedFeatureStore(IHost host, RepositoryConfig config, string root)
    {
        _host = host;
        Config = config;
        RepositoryRoot = root;
    }

    /// <summary>The repository's configuration.</summary>
    public RepositoryConfig Config { get; }

    /// <summary>The repository folder.</summary>
    public string RepositoryRoot { get; }

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>The options the silo runs with (granary.yaml plus overrides).</summary>
    public GranaryOptions Options => _host.Services.GetRequiredService<IOptions<GranaryOptions>>().Value;

    /// <summary>References to the silo's grains.</summary>
    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts a silo for the repository at <paramref name="repositoryRoot"/> (its granary.yaml picks the stores).</summary>
    /// <param name="repositoryRoot">The repository folder.</param>
    /// <param name="configure">More silo configuration (extra grains, storage providers), applied after the feature store's.</param>
    /// <param name="minimumLogLevel">Log level written to stderr; default Warning. The CLI passes <see cref="LogLevel.None"/> unless --verbose.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<EmbeddedFeatureStore> StartAsync(string repositoryRoot, Action<ISiloBuilder>? configure = null,
        LogLevel minimumLogLevel = LogLevel.Warning, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(repositoryRoot);
        var config = RepositoryConfig.Load(root);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = root, DisableDefaults = true, EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.Logging.ClearProviders();
        if (minimumLogLevel != LogLevel.None)
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(minimumLogLevel);
        builder.UseOrleans(silo =>
        {
            // No gateway: callers are in this process. The silo port only has to be free; nothing else connects to it.
            silo.UseLocalhostClustering(siloPort: FreeLoopbackPort(), gatewayPort: 0, serviceId: "granary-embedded", clusterId: "granary-embedded");
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            silo.Services.AddGranaryStoreEngines();
            silo.AddGranary(config);
            configure?.Invoke(silo);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new EmbeddedFeatureStore(host, config, root);
    }

    /// <summary>Stops the silo (deactivating its grains) and releases the stores.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
