using Granary.Online;
using Granary.Serving;

namespace Granary.Grains.Online;

/// <summary>
/// The grouped online read: all entities of a key shape in one <see cref="IOnlineReadGrain"/> call, which reads each
/// silo's group with one call and the entity grains' caches in place. Answers exactly as
/// <see cref="EntityGrainFeatureSource"/> does. A read that failed in transit (a silo died) is made again, a few times
/// within the caller's deadline, as the per-entity read does.
/// </summary>
public sealed class GroupedFeatureSource(IGrainFactory grains) : IOnlineBatchFeatureSource
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken)
    {
        var request = EntityGrainFeatureSource.Request(views);
        var reply = await ReadReplyAsync(entities, request, cancellationToken);
        var featureCount = request.FeatureCount;
        var viewCount = request.Views.Length;
        var results = new FeatureReadResult[entities.Count][];
        for (var e = 0; e < results.Length; e++)
            results[e] = EntityGrainFeatureSource.Results(request, reply.Values, reply.Statuses, reply.EventMicros, reply.Stale, e * featureCount, e * viewCount, reply.ServedFromCache[e]);
        return results;
    }

    /// <inheritdoc/>
    public async Task<OnlineFeatureBatch> ReadBatchAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken)
    {
        var reply = await ReadReplyAsync(entities, EntityGrainFeatureSource.Request(views), cancellationToken);
        // The reply's arrays as they came; only the event times change form (one per entity and view).
        var eventTimes = new DateTimeOffset?[reply.EventMicros.Length];
        for (var i = 0; i < eventTimes.Length; i++)
            if (reply.EventMicros[i] != EntityReadReply.NoRow) eventTimes[i] = OnlineTime.FromMicros(reply.EventMicros[i]);
        return new OnlineFeatureBatch(reply.Values, reply.Statuses, eventTimes, reply.ServedFromCache);
    }

    private async Task<EntityBatchReply> ReadReplyAsync(IReadOnlyList<EntityKey> entities, EntityReadRequest request, CancellationToken cancellationToken)
    {
        if (entities.Count == 0) return EntityBatchReply.Create(0, request);
        var keys = new string[entities.Count];
        for (var e = 0; e < keys.Length; e++) keys[e] = entities[e].Canonical;
        var read = new EntityBatchRead(entities[0].Project, keys, request);
        var reader = grains.GetGrain<IOnlineReadGrain>(0);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await reader.ReadAsync(read).WaitAsync(cancellationToken);
            }
            catch (Exception e) when (attempt < EntityGrainFeatureSource.MaxAttempts && !cancellationToken.IsCancellationRequested && EntityGrainFeatureSource.FailedInTransit(e))
            {
                await Task.Delay(EntityGrainFeatureSource.RetryPause, cancellationToken);
            }
        }
    }
}
