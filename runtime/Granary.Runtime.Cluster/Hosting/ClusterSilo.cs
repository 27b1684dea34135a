using System.Net;
using Granary.Runtime.Catalog;
using Granary.Runtime.Cluster.Diagnostics;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Ownership;
using Granary.Runtime.Cluster.Reminders;
using Granary.Runtime.Cluster.Transport;
using Granary.Runtime.Configuration;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Invocation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Runtime.Cluster.Hosting;

/// <summary>
/// A silo's membership in a cluster: its listener, outbound connections, membership protocol, ownership routing and
/// reminders. Started after the local runtime; a graceful stop leaves through ShuttingDown (grains deactivate and
/// persist) to Dead, a kill just drops everything.
/// </summary>
public sealed partial class ClusterSilo : IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly ClusterOptions _options;
    private readonly IMembershipTable _table;
    private readonly ActivationCatalog _catalog;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly SiloConnector _connector;
    private TransportListener? _listener;
    private SiloMessageHandler? _handler;
    private MembershipService? _membership;
    private ReminderService? _reminders;
    private int _stopped;

    /// <summary>Created by DI (see <c>UseCluster</c>).</summary>
    public ClusterSilo(IServiceProvider services, IOptions<ClusterOptions> options, IOptions<MessagingOptions> messaging, ActivationCatalog catalog, ILoggerFactory loggers,
        RuntimeInstruments runtimeInstruments)
    {
        _services = services;
        _options = options.Value;
        _table = services.GetService<IMembershipTable>()
            ?? throw new InvalidOperationException("UseCluster needs a membership table: add UseInMemoryClustering(table) or UsePostgreSqlClustering(connectionString) to the silo.");
        _catalog = catalog;
        _loggers = loggers;
        _logger = loggers.CreateLogger<ClusterSilo>();
        _connector = new SiloConnector(_options, loggers.CreateLogger<SiloConnector>());
        Instruments = new ClusterInstruments(runtimeInstruments.Meter, () => View);
        Router = new ClusterGrainCallRouter(() => View, RefreshViewAsync, _connector, catalog.IsStatelessWorker, messaging.Value.ResponseTimeout, Instruments);
    }

    /// <summary>This silo's identity (set once started).</summary>
    public SiloAddress Address => Router.Self ?? throw new InvalidOperationException("The silo has not started yet; its address is known once its listener is bound.");

    /// <summary>The silo's current membership view.</summary>
    public ClusterView View => _membership?.View ?? ClusterView.Empty;

    /// <summary>The router deciding local versus remote for every call made on this silo.</summary>
    public ClusterGrainCallRouter Router { get; }

    /// <summary>The membership protocol (null before start).</summary>
    public MembershipService? Membership => _membership;

    /// <summary>The cluster instruments on this silo's <c>Granary.Runtime</c> meter.</summary>
    public ClusterInstruments Instruments { get; }

    /// <summary>Incoming requests dropped because they had expired (also <c>granary-cluster-messages-expired</c>).</summary>
    public long ExpiredRequestsDropped => Instruments.ExpiredDropped;

    /// <summary>Raised when the silo found itself declared dead and stopped serving (the host should exit).</summary>
    public event Action<string>? DeclaredDead;

    /// <summary>Binds the listener, joins the membership and starts reminders.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        var local = _services.GetRequiredService<ILocalGrainInvoker>();
        Router.Local = local;
        var invoker = _services.GetRequiredService<IGrainCallInvoker>();
        Router.ReferenceInvoker = invoker;
        _handler = new SiloMessageHandler(() => Address, () => View, _catalog.IsStatelessWorker, _connector, local, invoker,
            () => _membership?.RequestRefresh(), Instruments, _services.GetService<TimeProvider>() ?? TimeProvider.System, _loggers.CreateLogger<SiloMessageHandler>());
        _listener = new TransportListener(new IPEndPoint(IPAddress.Parse(_options.SiloHost), _options.SiloPort), _options.ClusterId, _handler,
            _loggers.CreateLogger<TransportListener>());
        var self = SiloAddress.New(_options.SiloHost, _listener.Endpoint.Port);
        Router.Self = self;
        _listener.LocalSilo = self;
        _listener.Start();
        _membership = new MembershipService(self, _options.SiloName ?? $"{self.Host}:{self.Port}", _table, _connector, _options,
            _loggers.CreateLogger<MembershipService>(), OnDeclaredDead, _services.GetService<TimeProvider>());
        _membership.ViewChanged += OnViewChanged;
        _membership.PeerDeclaredDead += _ => Instruments.DeathsDeclared.Add(1);
        if (_services.GetService<IReminderTable>() is not null)
        {
            _reminders = _services.GetRequiredService<ReminderService>();
        }
        try
        {
            await _membership.JoinAsync(cancellationToken);
        }
        catch
        {
            // A silo that did not join must not keep listening or connecting: it is not a member.
            Kill();
            throw;
        }
        _reminders?.Start();
        LogStarted(self);
    }

    private Task RefreshViewAsync(CancellationToken cancellationToken)
        => _membership is null ? Task.CompletedTask : _membership.RefreshAsync(cancellationToken);

    private void OnViewChanged(ClusterView view)
    {
        Instruments.MembershipChanges.Add(1);
        if (Volatile.Read(ref _stopped) != 0 || Router.Self is not { } self) return;
        // Grains whose ring range moved to another silo are deactivated here; their next call activates them at the owner.
        foreach (var grain in _catalog.GetActiveGrainIds())
        {
            if (_catalog.IsStatelessWorker(grain.Type)) continue;
            var owner = view.Ring.OwnerOf(grain);
            if (owner is not null && owner != self)
            {
                _ = _catalog.DeactivateAsync(grain, new DeactivationReason(DeactivationReasonCode.Error, $"Ownership of {grain} moved to silo {owner}."));
            }
        }
        _reminders?.RequestRefresh();
    }

    private void OnDeclaredDead(string reason)
    {
        LogDeclaredDead(reason);
        Kill();
        DeclaredDead?.Invoke(reason);
    }

    /// <summary>
    /// Graceful stop: marks the silo ShuttingDown (peers stop routing here), deactivates every grain (which persists
    /// state as the grains do), marks it Dead and closes its connections.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _reminders?.Stop();
        if (_membership is not null)
        {
            try
            {
                await _membership.BeginShutdownAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLeaveFailed(e);
            }
        }
        await _catalog.DeactivateAllAsync(cancellationToken);
        _handler?.StopAccepting();
        if (_membership is not null)
        {
            try
            {
                await _membership.CompleteShutdownAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLeaveFailed(e);
            }
        }
        _listener?.Abort();
        await _connector.DisposeAsync();
    }

    /// <summary>Crash-style stop: no table writes, no deactivation; sockets close at once.</summary>
    public void Kill()
    {
        Interlocked.Exchange(ref _stopped, 1);
        _reminders?.Stop();
        _handler?.StopAccepting();
        _membership?.Abort();
        _listener?.Abort();
        _connector.Abort();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_membership is not null) await _membership.DisposeAsync();
        await _connector.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is active in the cluster.")]
    private partial void LogStarted(SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopping: {Reason}.")]
    private partial void LogDeclaredDead(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving the membership table failed; peers will vote this silo dead instead.")]
    private partial void LogLeaveFailed(Exception exception);
}
