using Granary.Online;
using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>
/// The grouped online read: one call for many entities of a project. A stateless worker, so it runs on the silo the caller
/// reaches (the client's gateway silo, or the calling silo): it groups the entities by the silo their grains are placed on
/// (a hash of the key over the active silos), reads its own group from the local entity grains' caches, and every other
/// group with one <see cref="ISiloOnlineCacheGrain.ReadAsync"/> call to that silo. The answer is what one
/// <see cref="IEntityGrain.ReadAsync"/> per entity would give.
/// </summary>
[Alias("granary.online-read")]
public interface IOnlineReadGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Reads every entity of <paramref name="read"/>. Throws as an entity read does; a read whose silo, or a group's silo,
    /// died fails in transit (rejected, or <see cref="TimeoutException"/> after 2 s, as an entity read does), and the
    /// caller reads again.
    /// </summary>
    [ReadOnly, Alias("read"), ResponseTimeout("00:00:02")]
    Task<EntityBatchReply> ReadAsync(EntityBatchRead read);
}

/// <summary>One read of many entities of a project, all with the same views and features.</summary>
/// <param name="Project">The project every entity belongs to.</param>
/// <param name="Entities">The entity keys (<see cref="EntityKey.Canonical"/>, the entity grains' keys).</param>
/// <param name="Request">What to read from each.</param>
[GenerateSerializer, Immutable, Alias("granary.EntityBatchRead")]
public sealed record EntityBatchRead([property: Id(0)] string Project, [property: Id(1)] string[] Entities, [property: Id(2)] EntityReadRequest Request);

/// <summary>
/// The answers of a batch read in a few flat arrays, entity after entity in the order asked, each as an
/// <see cref="EntityReadReply"/> lays it out: per feature a value and a status (at <c>entity * FeatureCount + feature</c>),
/// per view an event time and a stale flag (at <c>entity * Views + view</c>), per entity the served-from-cache flag.
/// </summary>
[GenerateSerializer, Immutable, Alias("granary.EntityBatchReply")]
public sealed record EntityBatchReply(
    [property: Id(0)] object?[] Values,
    [property: Id(1)] byte[] Statuses,
    [property: Id(2)] long[] EventMicros,
    [property: Id(3)] bool[] Stale,
    [property: Id(4)] bool[] ServedFromCache)
{
    /// <summary>An empty reply sized for <paramref name="entities"/> entities of <paramref name="request"/>.</summary>
    public static EntityBatchReply Create(int entities, EntityReadRequest request)
    {
        var features = request.FeatureCount;
        var views = request.Views.Length;
        return new(new object?[entities * features], new byte[entities * features], new long[entities * views], new bool[entities * views], new bool[entities]);
    }

    /// <summary>Copies entity <paramref name="from"/> of <paramref name="source"/> to entity <paramref name="to"/> of this reply.</summary>
    public void CopyEntity(EntityBatchReply source, int from, int to)
    {
        var features = Values.Length / ServedFromCache.Length;
        var views = EventMicros.Length / ServedFromCache.Length;
        Array.Copy(source.Values, from * features, Values, to * features, features);
        Array.Copy(source.Statuses, from * features, Statuses, to * features, features);
        Array.Copy(source.EventMicros, from * views, EventMicros, to * views, views);
        Array.Copy(source.Stale, from * views, Stale, to * views, views);
        ServedFromCache[to] = source.ServedFromCache[from];
    }

    /// <summary>Copies one entity grain's <paramref name="reply"/> to entity <paramref name="to"/> of this reply.</summary>
    public void CopyEntity(EntityReadReply reply, int to)
    {
        var features = reply.Values.Length;
        var views = reply.EventMicros.Length;
        Array.Copy(reply.Values, 0, Values, to * features, features);
        Array.Copy(reply.Statuses, 0, Statuses, to * features, features);
        Array.Copy(reply.EventMicros, 0, EventMicros, to * views, views);
        Array.Copy(reply.Stale, 0, Stale, to * views, views);
        ServedFromCache[to] = reply.ServedFromCache;
    }
}
