using Granary.Repository;
using Granary.Runtime;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Hosting;

/// <summary>
/// A feature store running in this process: one silo with every grain, the repository's stores (grain state in the
/// configured online store), quiet logging.
/// The CLI runs each command in one; tests use it as a real silo.
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

    /// <summary>References to the silo's grains.</summary>
    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts a silo for the repository at <paramref name="repositoryRoot"/> (its granary.yaml picks the stores).</summary>
    /// <param name="repositoryRoot">The repository folder.</param>
    /// <param name="configure">More silo configuration (extra grains, storage providers), applied after the feature store's.</param>
    /// <param name="minimumLogLevel">Log level written to stderr; default Warning, so command output stays clean.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<EmbeddedFeatureStore> StartAsync(string repositoryRoot, Action<ISiloBuilder>? configure = null,
        LogLevel minimumLogLevel = LogLevel.Warning, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(repositoryRoot);
        var config = RepositoryConfig.Load(root);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = root });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(minimumLogLevel);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.UseGranary(silo =>
        {
            silo.AddGranaryFeatureStore(config, root).AddGranaryGrainStorage(config, root);
            configure?.Invoke(silo);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new EmbeddedFeatureStore(host, config, root);
    }

    /// <summary>Stops the silo (deactivating its grains) and releases the stores.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
