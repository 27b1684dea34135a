using Granary.Online;
using Granary.Serving;
using Orleans.Runtime;

namespace Granary.Grains.Online;

/// <summary>
/// The online path's reader over entity grains: one request object shared by every entity of a key shape (immutable, so
/// local calls do not copy it), all entities called at once, replies turned back into per-feature results.
/// </summary>
public sealed class EntityGrainFeatureSource(IGrainFactory grains) : IOnlineFeatureSource
{
    // GetGrain<IEntityGrain>(key) resolves the interface's grain type by reflection on every call (a few percent of a
    // 100-entity read); resolved once here from one reference, each entity's reference is then built from its GrainId.
    private EntityGrainType? _entityType;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(IReadOnlyList<EntityKey> entities, OnlineViewSelection views, CancellationToken cancellationToken)
    {
        var request = new EntityReadRequest([.. views.Views], views.Features.Select(f => f.ToArray()).ToArray());
        var calls = new Task<EntityReadReply>[entities.Count];
        for (var e = 0; e < calls.Length; e++) calls[e] = Entity(entities[e].Canonical).ReadAsync(request);
        var replies = await Task.WhenAll(calls).WaitAsync(cancellationToken);
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
                    flat[i] = new FeatureReadResult(feature, reply.Values[i], status, status == FeatureStatus.NotFound && eventTime is null ? null : eventTime, reply.Stale[v]);
                    i++;
                }
            }
            results[e] = flat;
        }
        return results;
    }

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
