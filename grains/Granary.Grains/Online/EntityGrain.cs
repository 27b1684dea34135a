using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Online;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Online;

/// <summary>
/// One entity key: the newest row of each feature view over it, cached from the online store (the last-known-good layer
/// while the store is down), evaluated per read against the view's ttl and freshness SLA at the silo's clock.
/// Writes go to the store first (which enforces newest-wins), then to the cache. Rows written past the grain (a push writes
/// the store for many entities at once) arrive through the silo's <see cref="ActiveEntityCaches"/> and are taken in at the
/// start of the next call, under the same newest-wins rule. The cached views are published to the mailbox (a new dictionary
/// per change, never changed after), so a grouped read on this silo serves them without a call here. Placed on its key's
/// owner silo (<see cref="EntityPlacement"/>).
/// </summary>
[GrainType("entity"), EntityPlacement]
public sealed partial class EntityGrain(
    IOnlineStore store, RegistryCache registry, OnlineCacheEpochs epochs, ActiveEntityCaches caches, Erasure.TombstoneCache tombstones,
    TimeProvider time, ILogger<EntityGrain> logger)
    : Grain, IEntityGrain
{
    // Copy-on-write: replaced (and published) as a whole, so readers on other threads never see it change.
    private Dictionary<string, CachedView> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ViewRules> _rules = new(StringComparer.Ordinal);
    private RegistrySnapshot? _rulesOf;
    private EntityKey _key = null!;
    private EntityMailbox _mailbox = null!;

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = EntityKey.Parse(this.GetPrimaryKeyString());
        // Before the first load: a row written after this point is either posted here or seen by the load.
        _mailbox = caches.Join(_key.Canonical);
        _mailbox.Publish(_views);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        caches.Leave(_key.Canonical, _mailbox);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<EntityReadReply> ReadAsync(EntityReadRequest request)
    {
        TakePosted();
        // The steady state (snapshot cached, every view cached at its current epoch) answers without an await.
        var snapshot = registry.GetAsync(_key.Project);
        if (!snapshot.IsCompletedSuccessfully || !AllCached(request.Views)) return ReadLoadingAsync(snapshot, request);
        try
        {
            return Task.FromResult(Evaluate(snapshot.Result, request, servedFromCache: !store.IsReachable));
        }
        catch (Exception e)
        {
            // As the async path does: a bad view name or SLA tag faults the task rather than throwing at the caller.
            return Task.FromException<EntityReadReply>(e);
        }
    }

    private async Task<EntityReadReply> ReadLoadingAsync(ValueTask<RegistrySnapshot> pending, EntityReadRequest request)
    {
        var snapshot = await pending;
        var loaded = await LoadAsync(request.Views);
        return Evaluate(snapshot, request, servedFromCache: !loaded || !store.IsReachable);
    }

    /// <summary>The answer from the cache; <paramref name="servedFromCache"/>: the store is unreachable, so it is the last-known-good one.</summary>
    private EntityReadReply Evaluate(RegistrySnapshot snapshot, EntityReadRequest request, bool servedFromCache)
    {
        var rules = new ViewRules[request.Views.Length];
        for (var v = 0; v < rules.Length; v++) rules[v] = RulesOf(snapshot, request.Views[v]);
        var values = new object?[request.FeatureCount];
        var statuses = new byte[values.Length];
        var eventMicros = new long[request.Views.Length];
        var stale = new bool[request.Views.Length];
        EntityCacheReader.Evaluate(_views, request, rules, time.GetUtcNow(), values, statuses, eventMicros, stale);
        return new EntityReadReply(values, statuses, eventMicros, stale) { ServedFromCache = servedFromCache };
    }

    private bool AllCached(string[] views)
    {
        foreach (var view in views)
            if (!_views.TryGetValue(view, out var cached) || cached.Epoch != epochs.Current(_key.Project, view)) return false;
        return true;
    }

    /// <summary>A view's ttl and SLA, resolved once per registry snapshot rather than per read (tag parsing, the view search).</summary>
    private ViewRules RulesOf(RegistrySnapshot snapshot, string name)
    {
        if (!ReferenceEquals(_rulesOf, snapshot))
        {
            _rules.Clear();
            _rulesOf = snapshot;
        }
        if (_rules.TryGetValue(name, out var rules)) return rules;
        rules = ViewRules.Of(snapshot, name);
        _rules[name] = rules;
        return rules;
    }

    /// <inheritdoc/>
    public async Task<bool[]> WriteAsync(EntityWrite write)
    {
        TakePosted();
        var snapshot = await registry.GetAsync(_key.Project);
        var rows = new OnlineRow[write.Rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r] = write.Rows[r].ToOnlineRow(_key);
            OnlineValueTypes.Check(rows[r], ViewRules.ViewOf(snapshot, rows[r].FeatureView));
        }
        var erased = await tombstones.GetAsync(_key.Project);
        IReadOnlyList<OnlineWriteOutcome> outcomes;
        try
        {
            // Rows of this entity erased at or after their event time are not stored (answered as not applied).
            outcomes = erased.CoversAny(rows) ? await WriteUnerasedAsync(rows, erased) : await store.WriteAsync(rows);
        }
        catch (OnlineStoreUnavailableException e)
        {
            throw ForCaller(e);
        }
        var applied = new bool[rows.Length];
        var views = Edit();
        for (var r = 0; r < rows.Length; r++)
        {
            applied[r] = outcomes[r] == OnlineWriteOutcome.Applied;
            Remember(views, rows[r], applied[r], epochs.Current(_key.Project, rows[r].FeatureView));
        }
        Publish(views);
        return applied;
    }

    private async Task<IReadOnlyList<OnlineWriteOutcome>> WriteUnerasedAsync(OnlineRow[] rows, Granary.Erasure.TombstoneSet erased)
    {
        var outcomes = new OnlineWriteOutcome[rows.Length];
        var kept = new List<int>(rows.Length);
        for (var r = 0; r < rows.Length; r++)
        {
            if (erased.Buries(rows[r].FeatureView, _key, rows[r].EventTimestamp))
            {
                outcomes[r] = OnlineWriteOutcome.IgnoredAsOlder;
                Granary.Observability.GranaryMetrics.RecordErasedRowsDropped(rows[r].FeatureView, "write", 1);
            }
            else kept.Add(r);
        }
        if (kept.Count == 0) return outcomes;
        var written = await store.WriteAsync(kept.Select(r => rows[r]).ToList());
        for (var i = 0; i < kept.Count; i++) outcomes[kept[i]] = written[i];
        return outcomes;
    }

    /// <summary>Takes in the rows written past this grain since its last call, in the order they were posted.</summary>
    private void TakePosted()
    {
        if (_mailbox.Take() is not { } posted) return;
        var views = Edit();
        foreach (var p in posted) Remember(views, p.Row.ToOnlineRow(_key), p.Applied, p.Epoch);
        Publish(views);
    }

    /// <summary>A copy of the cached views to change; <see cref="Publish"/> makes it the cache.</summary>
    private Dictionary<string, CachedView> Edit() => new(_views, StringComparer.Ordinal);

    private void Publish(Dictionary<string, CachedView> views)
    {
        _views = views;
        _mailbox.Publish(views);
    }

    /// <summary>Brings the cache in line with a row the store applied (or ignored as older) at cache epoch <paramref name="epoch"/>.</summary>
    private static void Remember(Dictionary<string, CachedView> views, OnlineRow row, bool applied, long epoch)
    {
        if (applied)
        {
            // Applied means the store held this row at that moment; a newer one cached meanwhile stays (newest-wins, as in the store).
            var cached = views.TryGetValue(row.FeatureView, out var c) ? c : null;
            if (cached?.Row is null || row.CompareVersion(cached.Row) >= 0)
                views[row.FeatureView] = new CachedView(row, epoch);
        }
        else
        {
            // The store holds something newer than this row, which the cache may not have seen: reload on next read.
            views.Remove(row.FeatureView);
        }
    }

    /// <summary>
    /// Loads the views not cached, or cached before the view's last invalidation, in one store read. False when the store
    /// could not be read and every view is answered from what the cache already holds.
    /// </summary>
    private async Task<bool> LoadAsync(string[] views)
    {
        List<string>? missing = null;
        foreach (var view in views)
        {
            if (!_views.TryGetValue(view, out var cached) || cached.Epoch != epochs.Current(_key.Project, view))
                (missing ??= []).Add(view);
        }
        if (missing is null) return true;
        var loadedAt = missing.Select(v => epochs.Current(_key.Project, v)).ToArray();
        try
        {
            var result = await store.ReadAsync([_key], missing);
            var next = Edit();
            for (var v = 0; v < missing.Count; v++)
            {
                var row = result[0, v];
                // A write that landed while the read was in flight may be newer than what the read saw.
                if (next.TryGetValue(missing[v], out var cached) && cached.Row is { } held && (row is null || held.CompareVersion(row) > 0))
                    row = held;
                next[missing[v]] = new CachedView(row, loadedAt[v]);
            }
            Publish(next);
            return true;
        }
        catch (OnlineStoreUnavailableException e)
        {
            // Serve what is held (the SLA flags it stale as it ages); a view never loaded has nothing to serve.
            if (missing.Any(v => !_views.ContainsKey(v))) throw ForCaller(e);
            LogServingCached(logger, _key.Canonical, e.Message);
            return false;
        }
    }

    /// <summary>
    /// The store's error without its inner exception, logged here: the inner one is the driver's (e.g. StackExchange.Redis's
    /// RedisConnectionException), which Orleans cannot serialize, so a caller on another silo or a client would get a
    /// CodecNotFoundException instead of the typed, retriable error. The message already names the cause.
    /// </summary>
    private OnlineStoreUnavailableException ForCaller(OnlineStoreUnavailableException e)
    {
        if (e.InnerException is null) return e;
        LogStoreUnavailable(logger, _key.Canonical, e);
        return new OnlineStoreUnavailableException(e.Message);
    }


    [LoggerMessage(Level = LogLevel.Warning, Message = "Online store unreachable; entity {Entity} refuses the call with a retriable error")]
    private static partial void LogStoreUnavailable(ILogger logger, string entity, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Online store unreachable; entity {Entity} serves its cached rows ({Reason})")]
    private static partial void LogServingCached(ILogger logger, string entity, string reason);
}
