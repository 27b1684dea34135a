using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Online;

namespace Granary.Grains.Online;

/// <summary>A view's ttl and freshness SLA, resolved from the registry once rather than per read (tag parsing, the view search).</summary>
public readonly record struct ViewRules(TimeSpan? Ttl, TimeSpan? Sla)
{
    /// <summary>The rules of view <paramref name="name"/>; throws <see cref="OnlineRowSchemaException"/> when the registry has no such view.</summary>
    public static ViewRules Of(RegistrySnapshot snapshot, string name)
    {
        var view = ViewOf(snapshot, name);
        return new ViewRules(view.HasTtl ? view.Ttl : null, OnlineReadRules.FreshnessSlaOf(view));
    }

    /// <summary>The feature view <paramref name="name"/>; throws <see cref="OnlineRowSchemaException"/>, naming the known ones, when there is none.</summary>
    public static FeatureView ViewOf(RegistrySnapshot snapshot, string name)
    {
        foreach (var view in snapshot.FeatureViews)
            if (view.Name == name) return view;
        throw new OnlineRowSchemaException(
            $"project '{snapshot.Project}' (registry version {snapshot.Version}) has no feature view '{name}'; known: {string.Join(", ", snapshot.FeatureViews.Select(v => v.Name).DefaultIfEmpty("(none)"))}",
            "apply the repository that defines it, or fix the name");
    }
}

/// <summary>
/// Reads entities' cached views on this silo. <see cref="Evaluate"/> is the one evaluation of cached rows for a read,
/// used by <see cref="EntityGrain"/> and by the grouped read; <see cref="ReadAsync"/> is the grouped read's local part.
/// </summary>
public sealed class EntityCacheReader(ActiveEntityCaches caches, OnlineCacheEpochs epochs, RegistryCache registry, IOnlineStore store, TimeProvider time)
{
    /// <summary>
    /// Reads every entity of <paramref name="read"/>: one active here whose published cache holds every requested view at
    /// its current epoch (and has no rows waiting) is evaluated here, allocation-free; any other is read through its grain
    /// (which loads, takes in waiting rows, or fails as a single read would).
    /// </summary>
    public async Task<EntityBatchReply> ReadAsync(EntityBatchRead read, IGrainFactory grains)
    {
        var request = read.Request;
        var reply = EntityBatchReply.Create(read.Entities.Length, request);
        var pending = registry.GetAsync(read.Project);
        var snapshot = pending.IsCompletedSuccessfully ? pending.Result : await pending;
        var viewCount = request.Views.Length;
        var featureCount = request.FeatureCount;
        var rules = new ViewRules[viewCount];
        var current = new long[viewCount];
        var direct = true;
        for (var v = 0; v < viewCount; v++)
        {
            if (!TryRules(snapshot, request.Views[v], out rules[v])) direct = false; // every grain read then fails as it would alone
            current[v] = epochs.Current(read.Project, request.Views[v]);
        }
        var now = time.GetUtcNow();
        var servedFromCache = !store.IsReachable;
        List<(int Entity, Task<EntityReadReply> Call)>? calls = null;
        for (var e = 0; e < read.Entities.Length; e++)
        {
            if (direct && caches.TryGetCached(read.Entities[e], out var views) && Covers(views, request.Views, current))
            {
                Evaluate(views, request, rules, now, reply.Values.AsSpan(e * featureCount, featureCount), reply.Statuses.AsSpan(e * featureCount, featureCount),
                    reply.EventMicros.AsSpan(e * viewCount, viewCount), reply.Stale.AsSpan(e * viewCount, viewCount));
                reply.ServedFromCache[e] = servedFromCache;
                continue;
            }
            (calls ??= []).Add((e, EntityGrains.Get(grains, read.Entities[e]).ReadAsync(request)));
        }
        if (calls is null) return reply;
        await Task.WhenAll(calls.Select(c => c.Call));
        foreach (var (entity, call) in calls) reply.CopyEntity(call.Result, entity);
        return reply;
    }

    /// <summary>
    /// Evaluates <paramref name="request"/> against cached <paramref name="views"/> (each requested one present) at
    /// <paramref name="now"/>, into spans laid out as <see cref="EntityReadReply"/> lays out its arrays.
    /// </summary>
    public static void Evaluate(Dictionary<string, CachedView> views, EntityReadRequest request, ReadOnlySpan<ViewRules> rules, DateTimeOffset now,
        Span<object?> values, Span<byte> statuses, Span<long> eventMicros, Span<bool> stale)
    {
        var i = 0;
        for (var v = 0; v < request.Views.Length; v++)
        {
            var row = views[request.Views[v]].Row;
            eventMicros[v] = row is null ? EntityReadReply.NoRow : OnlineTime.ToMicros(row.EventTimestamp);
            var anyStale = false;
            foreach (var feature in request.Features[v])
            {
                var result = OnlineReadRules.Evaluate(row, feature, rules[v].Ttl, rules[v].Sla, now);
                values[i] = result.Value;
                statuses[i++] = (byte)result.Status;
                anyStale |= result.Stale;
            }
            stale[v] = anyStale;
        }
    }

    private static bool Covers(Dictionary<string, CachedView> views, string[] requested, long[] current)
    {
        for (var v = 0; v < requested.Length; v++)
            if (!views.TryGetValue(requested[v], out var cached) || cached.Epoch != current[v]) return false;
        return true;
    }

    private static bool TryRules(RegistrySnapshot snapshot, string view, out ViewRules rules)
    {
        try
        {
            rules = ViewRules.Of(snapshot, view);
            return true;
        }
        catch (OnlineRowSchemaException)
        {
            rules = default;
            return false;
        }
    }
}
