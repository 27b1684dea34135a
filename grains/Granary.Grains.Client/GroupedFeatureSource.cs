using Granary.Online;
using Granary.Serving;

namespace Granary.Grains.Online;

/// <summary>
/// The grouped online read: all entities of a key shape in one <see cref="IOnlineReadGrain"/> call, which reads each
/// silo's group with one call and the entity grains' caches in place. Answers exactly as
/// <see cref="EntityGrainFeatureSource"/> does. A read that failed in transit (a silo died) is made again, a few times
/// within the caller's deadline, as the per-entity read does.
/// </summary>
public sealed class GroupedFeatureSource(IGrainFactory grains) : IOnlineFeatureSource
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken)
    {
        if (entities.Count == 0) return [];
        var request = EntityGrainFeatureSource.Request(views);
        var keys = new string[entities.Count];
        for (var e = 0; e < keys.Length; e++) keys[e] = entities[e].Canonical;
        var read = new EntityBatchRead(entities[0].Project, keys, request);
        var reader = grains.GetGrain<IOnlineReadGrain>(0);
        EntityBatchReply reply;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                reply = await reader.ReadAsync(read).WaitAsync(cancellationToken);
                break;
            }
            catch (Exception e) when (attempt < EntityGrainFeatureSource.MaxAttempts && !cancellationToken.IsCancellationRequested && EntityGrainFeatureSource.FailedInTransit(e))
            {
                await Task.Delay(EntityGrainFeatureSource.RetryPause, cancellationToken);
            }
        }
        var featureCount = request.FeatureCount;
        var viewCount = request.Views.Length;
        var results = new FeatureReadResult[keys.Length][];
        for (var e = 0; e < results.Length; e++)
            results[e] = EntityGrainFeatureSource.Results(request, reply.Values, reply.Statuses, reply.EventMicros, reply.Stale, e * featureCount, e * viewCount, reply.ServedFromCache[e]);
        return results;
    }
}
