using System.Collections.Concurrent;
using Granary.Runtime.Cluster.Diagnostics;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Transport;
using Granary.Runtime.Invocation;
using Granary.Runtime.Messaging;

namespace Granary.Runtime.Cluster.Ownership;

/// <summary>
/// Routes each grain call to the silo owning the grain on the current view's ring: locally when that is this silo,
/// otherwise through that silo's <see cref="RemoteGrainCallTransport"/>. Used by silos (with a local invoker) and by
/// cluster clients (without one: every call is remote).
/// </summary>
public sealed class ClusterGrainCallRouter : IGrainCallRouter, IRejectedCallRouter
{
    private readonly Func<ClusterView> _view;
    private readonly Func<CancellationToken, Task> _refreshView;
    private readonly SiloConnector _connector;
    private readonly Func<string, bool> _runsLocallyOnly;
    private readonly TimeSpan _defaultTimeout;
    private readonly ConcurrentDictionary<SiloAddress, RemoteGrainCallTransport> _transports = new();
    private readonly NoActiveSiloTransport _noSilo;
    private SiloAddress? _self;

    /// <summary>Creates a router; a silo then sets <see cref="Self"/> and <see cref="Local"/> when it starts (a client never does).</summary>
    public ClusterGrainCallRouter(Func<ClusterView> view, Func<CancellationToken, Task> refreshView, SiloConnector connector,
        Func<string, bool> runsLocallyOnly, TimeSpan defaultTimeout, ClusterInstruments instruments)
    {
        _view = view;
        _refreshView = refreshView;
        _connector = connector;
        _runsLocallyOnly = runsLocallyOnly;
        _defaultTimeout = defaultTimeout;
        Instruments = instruments;
        _noSilo = new NoActiveSiloTransport(this);
    }

    /// <summary>Counters of the calls this router sends.</summary>
    public ClusterInstruments Instruments { get; }

    /// <summary>The silo this router runs in; null for a client (every call is then remote).</summary>
    public SiloAddress? Self { get => _self; set => _self = value; }

    /// <summary>
    /// The invoker that grain references arriving in call results call through (the silo's or the client's
    /// <see cref="IGrainCallInvoker"/>); set when the silo starts or the client connects.
    /// </summary>
    public IGrainCallInvoker? ReferenceInvoker { get; set; }

    /// <summary>Runs calls on this silo's catalog; null for a client.</summary>
    public ILocalGrainInvoker? Local { get; set; }

    /// <summary>The silo that should run <paramref name="grainId"/> now (null when no silo is active).</summary>
    public SiloAddress? OwnerOf(GrainId grainId) => _view().Ring.OwnerOf(grainId);

    /// <inheritdoc/>
    public IGrainCallTransport? SelectRemote(GrainId grainId)
    {
        if (_self is not null && _runsLocallyOnly(grainId.Type)) return null;
        var owner = _view().Ring.OwnerOf(grainId);
        if (owner is null) return _self is null ? _noSilo : null;
        if (owner == _self) return null;
        return TransportTo(owner);
    }

    /// <summary>The transport to <paramref name="silo"/> (one per silo, reused).</summary>
    public RemoteGrainCallTransport TransportTo(SiloAddress silo)
    {
        if (_transports.TryGetValue(silo, out var transport)) return transport;
        if (_transports.Count > 64)
        {
            // Drop transports of silos gone from the view so the cache does not grow with every restart.
            var view = _view();
            foreach (var known in _transports.Keys)
            {
                if (view.StatusOf(known) is SiloStatus.Dead or SiloStatus.None) _transports.TryRemove(known, out _);
            }
        }
        return _transports.GetOrAdd(silo, s => new RemoteGrainCallTransport(s, _connector, this, _defaultTimeout, Instruments, () => ReferenceInvoker));
    }

    /// <inheritdoc/>
    public async Task RerouteAsync<TResult>(GrainId target, GrainRequest<TResult> request, int attempt, string reason)
    {
        try
        {
            // Growing pauses: the view may need a probe round or a death declaration to catch up.
            await Task.Delay(Math.Min(50 * attempt, 500));
            await _refreshView(CancellationToken.None);
        }
        catch (Exception e)
        {
            Instruments.SiloUnavailable.Add(1);
            request.Fail(new SiloUnavailableException($"Could not route {request.Method} on grain {target} ({reason}); reading the membership failed: {e.Message}", callMayHaveRun: false, e));
            return;
        }
        var owner = _view().Ring.OwnerOf(target);
        if (owner is null && _self is null)
        {
            if (attempt >= RemoteGrainCallTransport.MaxReroutes)
            {
                Instruments.SiloUnavailable.Add(1);
                request.Fail(new SiloUnavailableException($"No active silo can run {request.Method} on grain {target} ({reason}).", callMayHaveRun: false));
                return;
            }
            await RerouteAsync(target, request, attempt + 1, reason);
            return;
        }
        if (owner is null || owner == _self)
        {
            // Runs here now; the returned task is the request's own completion, awaited by the original caller.
            _ = (Local ?? throw new InvalidOperationException("A cluster client cannot run grains locally.")).InvokeLocalAsync(target, request);
            return;
        }
        TransportTo(owner).Send(target, request, attempt);
    }

    private sealed class NoActiveSiloTransport(ClusterGrainCallRouter router) : IGrainCallTransport
    {
        public ValueTask<TResult> InvokeAsync<TResult>(GrainId target, GrainRequest<TResult> request)
        {
            _ = router.RerouteAsync(target, request, 1, "no active silo in the membership view");
            return request.AsValueTask();
        }

        public void SendOneWay(GrainId target, GrainRequest request)
        {
            // One-way calls are best effort; with no silo there is nowhere to send it.
        }
    }
}
