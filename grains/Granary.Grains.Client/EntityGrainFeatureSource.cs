using System.Runtime.ExceptionServices;
using Granary.Online;
using Granary.Serving;
using Orleans.Runtime;

namespace Granary.Grains.Online;

/// <summary>
/// The per-entity online read over entity grains: one request object shared by every entity of a key shape (immutable, so
/// local calls do not copy it), all entities called at once, replies turned back into per-feature results. A read is
/// idempotent, so an entity call that failed in transit (its silo died: rejected, or no answer within the read's 2 s
/// call timeout) is made again, a few times within the caller's deadline, and reaches the grain's new activation.
/// <see cref="GroupedFeatureSource"/> reads the same with one call per silo.
/// </summary>
public sealed class EntityGrainFeatureSource(IGrainFactory grains) : IOnlineFeatureSource
{
    /// <summary>Attempts per entity call when it fails in transit; the caller's deadline bounds them too.</summary>
    public const int MaxAttempts = 4;

    // Between attempts: long enough for the cluster to declare a dead silo (about 3 s with Granary's membership timings)
    // over the attempts, short enough that a rejected call is retried at once.
    internal static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken)
    {
        var request = Request(views);
        var calls = new Task<EntityReadReply>[entities.Count];
        for (var e = 0; e < calls.Length; e++) calls[e] = EntityGrains.Get(grains, entities[e].Canonical).ReadAsync(request);
        EntityReadReply[] replies;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                replies = await Task.WhenAll(calls).WaitAsync(cancellationToken);
                break;
            }
            catch (Exception e) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested && FailedInTransit(e))
            {
                // WhenAll ended when every call had: make again the ones that failed in transit; any other failure ends the read.
                await Task.Delay(RetryPause, cancellationToken);
                for (var c = 0; c < calls.Length; c++)
                {
                    if (calls[c].IsCompletedSuccessfully) continue;
                    if (calls[c].Exception?.InnerException is { } failure && !FailedInTransit(failure)) ExceptionDispatchInfo.Throw(failure);
                    calls[c] = EntityGrains.Get(grains, entities[c].Canonical).ReadAsync(request);
                }
            }
        }
        var results = new FeatureReadResult[replies.Length][];
        for (var e = 0; e < replies.Length; e++)
        {
            var reply = replies[e];
            results[e] = Results(request, reply.Values, reply.Statuses, reply.EventMicros, reply.Stale, 0, 0, reply.ServedFromCache);
        }
        return results;
    }

    /// <summary>The entity read request for <paramref name="views"/>.</summary>
    internal static EntityReadRequest Request(OnlineViewSelection views)
        => new([.. views.Views], views.Features.Select(f => f.ToArray()).ToArray());

    /// <summary>
    /// One entity's answer as per-feature results, from arrays laid out as <see cref="EntityReadReply"/> lays them out,
    /// the entity's features starting at <paramref name="valueOffset"/> and its views at <paramref name="viewOffset"/>.
    /// </summary>
    internal static FeatureReadResult[] Results(EntityReadRequest request, object?[] values, byte[] statuses, long[] eventMicros, bool[] stale,
        int valueOffset, int viewOffset, bool servedFromCache)
    {
        var flat = new FeatureReadResult[request.FeatureCount];
        var i = 0;
        for (var v = 0; v < request.Views.Length; v++)
        {
            var micros = eventMicros[viewOffset + v];
            DateTimeOffset? eventTime = micros == EntityReadReply.NoRow ? null : OnlineTime.FromMicros(micros);
            var viewStale = stale[viewOffset + v];
            foreach (var feature in request.Features[v])
            {
                var status = (FeatureStatus)statuses[valueOffset + i];
                flat[i] = new FeatureReadResult(feature, values[valueOffset + i], status, status == FeatureStatus.NotFound && eventTime is null ? null : eventTime, viewStale, servedFromCache);
                i++;
            }
        }
        return flat;
    }

    /// <summary>A call that never reached its grain or got no answer: the silo died or is unreachable, not the read's own error.</summary>
    internal static bool FailedInTransit(Exception e) => e is OrleansMessageRejectionException or TimeoutException;
}
