using System.Runtime.ExceptionServices;
using Granary.Online;
using Granary.Serving;
using Orleans.Runtime;

namespace Granary.Grains.Online;

/// <summary>
/// The online path's reader over entity grains: one request object shared by every entity of a key shape (immutable, so
/// local calls do not copy it), all entities called at once, replies turned back into per-feature results. A read is
/// idempotent, so an entity call that failed in transit (its silo died: rejected, or no answer within the read's 2 s
/// call timeout) is made again, a few times within the caller's deadline, and reaches the grain's new activation.
/// </summary>
public sealed class EntityGrainFeatureSource(IGrainFactory grains) : IOnlineFeatureSource
{
    /// <summary>Attempts per entity call when it fails in transit; the caller's deadline bounds them too.</summary>
    public const int MaxAttempts = 4;

    // Between attempts: long enough for the cluster to declare a dead silo (about 3 s with Granary's membership timings)
    // over the attempts, short enough that a rejected call is retried at once.
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    // GetGrain<IEntityGrain>(key) resolves the interface's grain type by reflection on every call (a few percent of a
    // 100-entity read); resolved once here from one reference, each entity's reference is then built from its GrainId.
    private EntityGrainType? _entityType;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken)
    {
        var request = new EntityReadRequest([.. views.Views], views.Features.Select(f => f.ToArray()).ToArray());
        var calls = new Task<EntityReadReply>[entities.Count];
        for (var e = 0; e < calls.Length; e++) calls[e] = Entity(entities[e].Canonical).ReadAsync(request);
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
                    calls[c] = Entity(entities[c].Canonical).ReadAsync(request);
                }
            }
        }
        var results = new FeatureReadResult[replies.Length][];
        for (var e = 0; e < replies.Length; e++)
        {
            var reply = replies[e];
            var flat = new FeatureReadResult[reply.Values.Length];
            var i = 0;
            for (var v = 0; v < request.Views.Length; v++)
            {
                DateTimeOffset? eventTime = reply.EventMicros[v] == EntityReadReply.NoRow ? null : OnlineTime.FromMicros(reply.EventMicros[v]);
                foreach (var feature in request.Features[v])
                {
                    var status = (FeatureStatus)reply.Statuses[i];
                    flat[i] = new FeatureReadResult(feature, reply.Values[i], status, status == FeatureStatus.NotFound && eventTime is null ? null : eventTime, reply.Stale[v], reply.ServedFromCache);
                    i++;
                }
            }
            results[e] = flat;
        }
        return results;
    }

    /// <summary>A call that never reached its grain or got no answer: the silo died or is unreachable, not the read's own error.</summary>
    private static bool FailedInTransit(Exception e) => e is OrleansMessageRejectionException or TimeoutException;

    private IEntityGrain Entity(string canonical)
    {
        if (_entityType is not { } type)
        {
            var sample = (GrainReference)(object)grains.GetGrain<IEntityGrain>(canonical);
            _entityType = new EntityGrainType(sample.GrainId.Type, sample.InterfaceType);
            return (IEntityGrain)sample;
        }
        return (IEntityGrain)grains.GetGrain(GrainId.Create(type.Type, canonical), type.Interface);
    }

    // A class, so concurrent requests publish it with one reference write.
    private sealed record EntityGrainType(GrainType Type, GrainInterfaceType Interface);
}
