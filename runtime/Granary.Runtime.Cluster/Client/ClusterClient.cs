using Granary.Runtime.Cluster.Diagnostics;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Ownership;
using Granary.Runtime.Cluster.Transport;
using Granary.Runtime.Configuration;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Hosting;
using Granary.Runtime.Invocation;
using Granary.Runtime.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Runtime.Cluster.Client;

/// <summary>
/// A client of a cluster (the gateway uses one): reads the Active silos from the membership table, sends each call
/// straight to the silo owning the grain, re-reads the table every <see cref="ClusterOptions.TableRefreshTimeout"/>
/// and whenever a silo cannot be reached, so it keeps working when the silo it talked to dies.
/// Grain classes are registered only to map interfaces to grain types; nothing runs in the client.
/// </summary>
public sealed partial class ClusterClient : IAsyncDisposable
{
    private readonly IMembershipTable _table;
    private readonly ClusterOptions _options;
    private readonly ServiceProvider _services;
    private readonly SiloConnector _connector;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private volatile ClusterView _view = ClusterView.Empty;
    private Task? _refreshLoop;

    private ClusterClient(IMembershipTable table, ClusterOptions options, Action<ISiloBuilder> registerGrains, ILoggerFactory loggers, TimeSpan responseTimeout)
    {
        _table = table;
        _options = options;
        _logger = loggers.CreateLogger<ClusterClient>();
        _connector = new SiloConnector(options, loggers.CreateLogger<SiloConnector>());
        var services = new ServiceCollection();
        services.AddSingleton(loggers);
        services.AddLogging();
        services.AddGranary(new ConfigurationBuilder().Build(), silo =>
        {
            registerGrains(silo);
            silo.Configure<MessagingOptions>(m => m.ResponseTimeout = responseTimeout);
        });
        // Resolved lazily: the router needs the meter of the provider it is registered in.
        services.Replace(ServiceDescriptor.Singleton<IGrainCallRouter>(_ => Router!));
        _services = services.BuildServiceProvider();
        Instruments = new ClusterInstruments(_services.GetRequiredService<RuntimeInstruments>().Meter, () => _view);
        Router = new ClusterGrainCallRouter(() => _view, RefreshAsync, _connector, static _ => false, responseTimeout, Instruments);
        Router.ReferenceInvoker = _services.GetRequiredService<IGrainCallInvoker>();
        GrainFactory = _services.GetRequiredService<IGrainFactory>();
    }

    /// <summary>
    /// Connects to the cluster described by <paramref name="table"/>: reads the table once and starts refreshing it.
    /// <paramref name="registerGrains"/> adds the grain classes (e.g. <c>silo => silo.AddGrainsFromAssembly(...)</c>) so
    /// interfaces map to grain types.
    /// </summary>
    public static async Task<ClusterClient> ConnectAsync(IMembershipTable table, ClusterOptions options, Action<ISiloBuilder> registerGrains,
        ILoggerFactory? loggers = null, TimeSpan? responseTimeout = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var client = new ClusterClient(table, options, registerGrains, loggers ?? NullLoggerFactory.Instance, responseTimeout ?? MessagingOptions.DefaultResponseTimeout);
        await table.InitializeAsync(cancellationToken);
        await client.RefreshAsync(cancellationToken);
        client._refreshLoop = Task.Run(() => client.RefreshLoopAsync(client._stopping.Token));
        return client;
    }

    /// <summary>References to the cluster's grains.</summary>
    public IGrainFactory GrainFactory { get; }

    /// <summary>The client's current view of the cluster.</summary>
    public ClusterView View => _view;

    /// <summary>The cluster instruments on this client's <c>Granary.Runtime</c> meter (messages sent, silo-unavailable failures).</summary>
    public ClusterInstruments Instruments { get; }

    /// <summary>The router that picks the owning silo of each call.</summary>
    public ClusterGrainCallRouter Router { get; }

    /// <summary>Re-reads the membership table now.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        // Many failed calls may ask at once; one read serves them all.
        var before = _view;
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            if (_view != before) return;
            var data = await _table.ReadAllAsync(cancellationToken);
            if (data.Version.Version == _view.Version) return;
            var members = data.Rows.Select(r => r.Entry).ToList();
            var view = new ClusterView(data.Version.Version, members, _options.VirtualNodesPerSilo);
            foreach (var member in members)
            {
                if (member.Status == SiloStatus.Dead && _view.StatusOf(member.Silo) is not SiloStatus.Dead and not SiloStatus.None)
                {
                    _connector.BreakConnection(member.Silo, $"silo {member.Silo} was declared dead");
                }
            }
            _view = view;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.TableRefreshTimeout, cancellationToken);
                await RefreshAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (Exception e) { LogRefreshFailed(e); }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (_refreshLoop is not null)
        {
            try { await _refreshLoop; } catch (OperationCanceledException) { }
        }
        await _connector.DisposeAsync();
        await _services.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the membership table failed; keeping the previous view.")]
    private partial void LogRefreshFailed(Exception exception);
}
