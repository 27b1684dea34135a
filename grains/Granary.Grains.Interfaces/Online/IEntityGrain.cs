using Granary.Online;
using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>
/// One entity key of a project (key = <see cref="EntityKey.Canonical"/>, e.g. <c>demo/driver_id=1001</c>): caches the newest
/// row of every feature view over that entity, answers reads with per-feature statuses, and writes through to the online
/// store (acknowledged only once the store has the rows). While the store is unreachable it keeps serving what it holds.
/// </summary>
[Alias("granary.entity")]
public interface IEntityGrain : IGrainWithStringKey
{
    /// <summary>
    /// The requested features of the requested views, evaluated at the silo's clock (status, ttl, freshness SLA).
    /// Throws <see cref="OnlineStoreUnavailableException"/> only when a view is not cached and the store cannot be read.
    /// A read answers in milliseconds, so its call times out after 2 s (not the client's default): a read in flight on a
    /// silo that died fails soon enough for the caller to retry it on the grain's next activation within a 5 s budget.
    /// </summary>
    [ReadOnly, Alias("read"), ResponseTimeout("00:00:02")]
    Task<EntityReadReply> ReadAsync(EntityReadRequest request);

    /// <summary>
    /// Writes rows of this entity through to the online store (newest-wins there), then into the cache; per row, whether
    /// it was applied (true) or ignored as older (false). Throws <see cref="OnlineStoreUnavailableException"/> (nothing acknowledged).
    /// </summary>
    [Alias("write")]
    Task<bool[]> WriteAsync(EntityWrite write);
}

/// <summary>What to read from an entity: views, and per view the features in the order the caller wants them.</summary>
/// <param name="Views">Feature view names.</param>
/// <param name="Features">Per view (same order), the feature names.</param>
[GenerateSerializer, Immutable, Alias("granary.EntityReadRequest")]
public sealed record EntityReadRequest([property: Id(0)] string[] Views, [property: Id(1)] string[][] Features)
{
    /// <summary>How many features the request names in all.</summary>
    public int FeatureCount
    {
        get
        {
            var n = 0;
            foreach (var f in Features) n += f.Length;
            return n;
        }
    }
}

/// <summary>
/// An entity's answer, flattened in request order (view by view, feature by feature) so it serializes as a few arrays:
/// value, status (<see cref="FeatureStatus"/> as a byte) per feature; event timestamp (UTC microseconds, <see cref="long.MinValue"/>
/// when no row is held) and stale flag per view.
/// </summary>
[GenerateSerializer, Immutable, Alias("granary.EntityReadReply")]
public sealed record EntityReadReply(
    [property: Id(0)] object?[] Values,
    [property: Id(1)] byte[] Statuses,
    [property: Id(2)] long[] EventMicros,
    [property: Id(3)] bool[] Stale)
{
    /// <summary>Marks a view with no row held in <see cref="EventMicros"/>.</summary>
    public const long NoRow = long.MinValue;

    /// <summary>True when the grain answered from its cache while the online store was unreachable (the last-known-good answer).</summary>
    [Id(4)]
    public bool ServedFromCache { get; init; }
}

/// <summary>Rows to write to one entity, all of the same entity key (the grain's).</summary>
/// <param name="Rows">Per row: the view, event and created timestamps (UTC microseconds; created <see cref="long.MinValue"/> when absent), and the values.</param>
[GenerateSerializer, Immutable, Alias("granary.EntityWrite")]
public sealed record EntityWrite([property: Id(0)] EntityWriteRow[] Rows);

/// <summary>One row to write: a view's values at an event time.</summary>
[GenerateSerializer, Immutable, Alias("granary.EntityWriteRow")]
public sealed record EntityWriteRow(
    [property: Id(0)] string FeatureView,
    [property: Id(1)] long EventMicros,
    [property: Id(2)] long CreatedMicros,
    [property: Id(3)] string[] Features,
    [property: Id(4)] object?[] Values)
{
    /// <summary>The row of <paramref name="entity"/> as the online store takes it.</summary>
    public OnlineRow ToOnlineRow(EntityKey entity)
    {
        var values = new Dictionary<string, object?>(Features.Length, StringComparer.Ordinal);
        for (var i = 0; i < Features.Length; i++) values[Features[i]] = Values[i];
        return new OnlineRow(entity, FeatureView, OnlineTime.FromMicros(EventMicros),
            CreatedMicros == long.MinValue ? null : OnlineTime.FromMicros(CreatedMicros), values);
    }

    /// <summary>The wire form of <paramref name="row"/>.</summary>
    public static EntityWriteRow From(OnlineRow row)
    {
        var features = new string[row.Values.Count];
        var values = new object?[row.Values.Count];
        var i = 0;
        foreach (var (name, value) in row.Values)
        {
            features[i] = name;
            values[i++] = value;
        }
        return new EntityWriteRow(row.FeatureView, OnlineTime.ToMicros(row.EventTimestamp),
            row.CreatedTimestamp is { } c ? OnlineTime.ToMicros(c) : long.MinValue, features, values);
    }
}
