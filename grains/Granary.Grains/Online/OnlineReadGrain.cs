using Orleans.Concurrency;
using Orleans.Runtime;

namespace Granary.Grains.Online;

/// <summary>
/// The grouped read's entry on the silo a caller reaches: entities grouped by owner silo, this silo's group read from its
/// caches, every other group with one call to that silo's <see cref="ISiloOnlineCacheGrain"/>, the groups' answers put
/// back in the order asked.
/// </summary>
// Reentrant: a read only touches thread-safe silo services, so one activation serves concurrent reads.
[StatelessWorker, Reentrant]
[GrainType("online-read")]
public sealed class OnlineReadGrain(EntityCacheReader reader, EntityOwners owners, ILocalSiloDetails local) : Grain, IOnlineReadGrain
{
    /// <inheritdoc/>
    public async Task<EntityBatchReply> ReadAsync(EntityBatchRead read)
    {
        var silos = owners.Active();
        if (silos.Length <= 1) return await reader.ReadAsync(read, GrainFactory);
        var entities = read.Entities;
        var ownerOf = new int[entities.Length];
        var counts = new int[silos.Length];
        for (var e = 0; e < entities.Length; e++) counts[ownerOf[e] = EntityOwners.OwnerIndex(EntityOwners.KeyHash(entities[e]), silos)]++;
        var here = Array.IndexOf(silos, local.SiloAddress);
        if (here >= 0 && counts[here] == entities.Length) return await reader.ReadAsync(read, GrainFactory);

        // Each group's entities, and where each sits in the request.
        var groups = new string[silos.Length][];
        var positions = new int[silos.Length][];
        for (var s = 0; s < silos.Length; s++) (groups[s], positions[s]) = (new string[counts[s]], new int[counts[s]]);
        var filled = new int[silos.Length];
        for (var e = 0; e < entities.Length; e++)
        {
            var s = ownerOf[e];
            groups[s][filled[s]] = entities[e];
            positions[s][filled[s]++] = e;
        }
        var calls = new Task<EntityBatchReply>?[silos.Length];
        for (var s = 0; s < silos.Length; s++)
        {
            if (counts[s] == 0) continue;
            var group = read with { Entities = groups[s] };
            calls[s] = s == here ? reader.ReadAsync(group, GrainFactory) : ReadOnAsync(silos[s], group);
        }
        await Task.WhenAll(calls.Where(c => c is not null)!);
        var reply = EntityBatchReply.Create(entities.Length, read.Request);
        for (var s = 0; s < silos.Length; s++)
        {
            if (calls[s] is not { } call) continue;
            var answer = call.Result;
            for (var i = 0; i < positions[s].Length; i++) reply.CopyEntity(answer, i, positions[s][i]);
        }
        return reply;
    }

    private async Task<EntityBatchReply> ReadOnAsync(SiloAddress silo, EntityBatchRead group)
    {
        try
        {
            return await GrainFactory.GetGrain<ISiloOnlineCacheGrain>(silo.ToParsableString()).ReadAsync(group);
        }
        catch (OrleansException e) when (e is not OrleansMessageRejectionException)
        {
            // Placement refused the silo (it left the cluster in placement's view, not yet in ours): read the group from
            // here, through its entity grains. A call that failed in transit goes back to the caller, who reads again.
            return await reader.ReadAsync(group, GrainFactory);
        }
    }
}
