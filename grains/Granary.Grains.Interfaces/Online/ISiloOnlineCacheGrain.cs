using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>
/// One per silo (key = the silo's address, <c>SiloAddress.ToParsableString()</c>; always activated on that silo): tells the
/// entity grains there that rows changed in the online store behind their back, so their caches follow. Materialization
/// invalidates whole views (the next read reloads them); a push hands over the rows it wrote. Both call every active silo's
/// before they report success.
/// </summary>
[Alias("granary.silo-online-cache")]
public interface ISiloOnlineCacheGrain : IGrainWithStringKey
{
    /// <summary>Invalidates the cached rows of <paramref name="views"/> of <paramref name="project"/> in every entity grain of this silo.</summary>
    [Alias("invalidate")]
    Task InvalidateAsync(string project, string[] views);

    /// <summary>
    /// Rows just written to the online store: each entity grain active on this silo takes its rows into its cache on its next
    /// call (applied rows that are newer than the cached one replace it; a row the store ignored as older drops the cached
    /// view, reloaded on next read). Entities with no active grain here are skipped, never activated.
    /// </summary>
    [Alias("rows-written")]
    Task RowsWrittenAsync(WrittenRows written);

    /// <summary>
    /// An entity was erased from <paramref name="views"/>: reloads this silo's erasure tombstones of <paramref name="project"/>,
    /// then drops those views from the entity's grain cache when it is active here (its next read reloads from the store).
    /// Returns whether the entity's grain was active here.
    /// </summary>
    [Alias("entity-erased")]
    Task<bool> EntityErasedAsync(string project, string entity, string[] views);

    /// <summary>
    /// Reads the entities of <paramref name="read"/> that this silo holds (or will hold, see <see cref="IOnlineReadGrain"/>)
    /// in one call: an active entity grain whose cache covers the request is read here without a call to it; any other
    /// entity is read through its grain. Same 2 s timeout as an entity read, for the same reason.
    /// </summary>
    [ReadOnly, Alias("read"), ResponseTimeout("00:00:02")]
    Task<EntityBatchReply> ReadAsync(EntityBatchRead read);
}

/// <summary>Rows of one project as the online store took them, in write order.</summary>
/// <param name="Project">The project all rows belong to.</param>
/// <param name="Entities">Per row, its entity key (<c>EntityKey.Canonical</c>, the entity grain's key).</param>
/// <param name="Rows">Per row, the row written.</param>
/// <param name="Applied">Per row, whether the store applied it (false: it held a newer row and ignored this one).</param>
[GenerateSerializer, Immutable, Alias("granary.WrittenRows")]
public sealed record WrittenRows(
    [property: Id(0)] string Project,
    [property: Id(1)] string[] Entities,
    [property: Id(2)] EntityWriteRow[] Rows,
    [property: Id(3)] bool[] Applied);
