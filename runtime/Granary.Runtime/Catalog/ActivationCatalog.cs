using System.Collections.Concurrent;
using Granary.Runtime.Configuration;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Invocation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Runtime.Catalog;

/// <summary>The activations living on this silo: creates them on first call, finds them, forgets them on deactivation.</summary>
public sealed class ActivationCatalog
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly ConcurrentDictionary<GrainId, StatelessWorkerPool> _workerPools = new();
    private readonly GrainClassRegistry _classes;
    private IGrainFactory? _grainFactory;

    internal ActivationCatalog(
        IServiceProvider services,
        GrainClassRegistry classes,
        TimeProvider time,
        IOptions<GrainCollectionOptions> collectionOptions,
        IOptions<MessagingOptions> messagingOptions,
        IEnumerable<IIncomingGrainCallFilter> incomingFilters,
        RuntimeInstruments instruments,
        ILogger<ActivationCatalog> logger)
    {
        Services = services;
        _classes = classes;
        Time = time;
        CollectionOptions = collectionOptions.Value;
        MaxInlineDepth = messagingOptions.Value.MaxInlineDepth;
        TurnWarningThresholdTicks = (long)(messagingOptions.Value.TurnWarningThreshold.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        IncomingFilters = [.. incomingFilters];
        Instruments = instruments;
        Logger = logger;
        StateContext = new PersistentStateContext(instruments);
    }

    internal IServiceProvider Services { get; }
    internal TimeProvider Time { get; }
    internal GrainCollectionOptions CollectionOptions { get; }
    internal int MaxInlineDepth { get; }
    internal long TurnWarningThresholdTicks { get; }
    internal IIncomingGrainCallFilter[] IncomingFilters { get; }
    internal RuntimeInstruments Instruments { get; }
    internal ILogger Logger { get; }
    internal PersistentStateContext StateContext { get; }
    internal IGrainFactory GrainFactory => _grainFactory ??= Services.GetRequiredService<IGrainFactory>();

    /// <summary>Number of live activations (stateless workers included).</summary>
    public int Count => _activations.Count + _workerPools.Values.Sum(p => p.Workers.Count);

    /// <summary>Whether an activation of <paramref name="grainId"/> currently lives here.</summary>
    public bool IsActive(GrainId grainId)
        => _activations.ContainsKey(grainId) || (_workerPools.TryGetValue(grainId, out var pool) && pool.Workers.Count > 0);

    /// <summary>Runs <paramref name="request"/> on the local activation of <paramref name="grainId"/>, creating it if needed.</summary>
    internal ValueTask<TResult> InvokeAsync<TResult>(GrainReference? reference, GrainId grainId, GrainRequest<TResult> request, bool allowInline)
    {
        Submit(reference, grainId, request, allowInline);
        return request.AsValueTask();
    }

    /// <summary>Hands a request to the local activation (or worker pool); failures to even find one fail the request.</summary>
    internal void Submit(GrainReference? reference, GrainId grainId, GrainRequest request, bool allowInline)
    {
        // Fast path: the reference remembers the activation it reached last time.
        if (reference?.CachedTarget is ActivationData cached && cached.TrySubmit(request, allowInline)) return;
        try
        {
            while (true)
            {
                var grainClass = _classes.GetByGrainType(grainId.Type);
                if (grainClass.IsStatelessWorker)
                {
                    _workerPools.GetOrAdd(grainId, static (id, state) => new StatelessWorkerPool(state.Catalog, state.Class, id), (Catalog: this, Class: grainClass))
                        .Submit(request, allowInline);
                    return;
                }
                var activation = GetOrCreate(grainId, grainClass);
                if (activation.TrySubmit(request, allowInline))
                {
                    if (reference is not null) reference.CachedTarget = activation;
                    return;
                }
            }
        }
        catch (Exception exception)
        {
            request.Fail(exception);
        }
    }

    /// <summary>Re-dispatches a request that reached an activation which then deactivated.</summary>
    internal void Resubmit(GrainId grainId, GrainRequest request) => Submit(null, grainId, request, allowInline: false);

    private ActivationData GetOrCreate(GrainId grainId, GrainClassInfo grainClass)
    {
        if (_activations.TryGetValue(grainId, out var existing)) return existing;
        var created = new ActivationData(this, grainClass, grainId, pool: null);
        var winner = _activations.GetOrAdd(grainId, created);
        if (winner == created) created.StartActivation();
        return winner;
    }

    internal void Remove(ActivationData activation)
    {
        if (activation.Pool is { } pool) pool.Remove(activation);
        else _activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation));
    }

    /// <summary>All live activations (a snapshot).</summary>
    internal List<ActivationData> Snapshot()
    {
        var all = new List<ActivationData>(_activations.Values);
        foreach (var pool in _workerPools.Values) all.AddRange(pool.Workers);
        return all;
    }

    /// <summary>Deactivates every activation idle for at least the collection age; returns how many started deactivating.</summary>
    internal int CollectIdle()
    {
        var now = Time.GetUtcNow();
        var collected = 0;
        foreach (var activation in Snapshot())
            if (activation.CollectIfIdle(now, CollectionOptions.CollectionAge)) collected++;
        foreach (var (id, pool) in _workerPools)
            if (pool.Workers.Count == 0) _workerPools.TryRemove(new KeyValuePair<GrainId, StatelessWorkerPool>(id, pool));
        return collected;
    }

    /// <summary>Deactivates every activation (silo shutdown) and waits for them, up to the deactivation timeout.</summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        var all = Snapshot();
        RuntimeLog.SiloStopping(Logger, all.Count);
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, "The silo is stopping.");
        foreach (var activation in all) activation.RequestDeactivation(reason);
        var done = Task.WhenAll(all.Select(a => a.Deactivated));
        try
        {
            await done.WaitAsync(CollectionOptions.DeactivationTimeout, Time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Best effort, as in Orleans: activations still busy are dropped with the process.
        }
    }

    /// <summary>Test hook: the grain instance of a live activation, or null.</summary>
    internal object? FindGrainInstance(GrainId grainId) => _activations.TryGetValue(grainId, out var activation) ? activation.GrainInstance : null;

    /// <summary>Deactivates the activation of <paramref name="grainId"/> (if any) and waits until it is gone.</summary>
    public Task DeactivateAsync(GrainId grainId)
        => DeactivateAsync(grainId, new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "Deactivated by the host."));

    /// <summary>Deactivates the activation of <paramref name="grainId"/> (if any) for <paramref name="reason"/> and waits until it is gone.</summary>
    public Task DeactivateAsync(GrainId grainId, DeactivationReason reason)
    {
        if (!_activations.TryGetValue(grainId, out var activation)) return Task.CompletedTask;
        activation.RequestDeactivation(reason);
        return activation.Deactivated;
    }

    /// <summary>The grains with a (non-stateless-worker) activation here: a snapshot, for a cluster's ownership checks.</summary>
    public IReadOnlyList<GrainId> GetActiveGrainIds() => [.. _activations.Keys];

    /// <summary>Whether grains of <paramref name="grainType"/> are stateless workers (always run on the calling silo); false for unknown types.</summary>
    public bool IsStatelessWorker(string grainType) => _classes.TryGetByGrainType(grainType)?.IsStatelessWorker ?? false;
}
