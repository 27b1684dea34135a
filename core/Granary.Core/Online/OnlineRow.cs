using Granary.Definitions;

namespace Granary.Online;

/// <summary>
/// The newest known values of one feature view for one entity, as the online store holds them. A feature absent from
/// <see cref="Values"/> is missing (read as NOT_FOUND); a feature present with a null value is NULL_VALUE.
/// </summary>
/// <remarks>
/// Values are plain CLR values typed by the view's schema (see <see cref="OnlineValueTypes"/>): Int32 <c>int</c>,
/// Int64 <c>long</c>, Float32 <c>float</c>, Float64 <c>double</c>, String <c>string</c>, Bool <c>bool</c>, Bytes
/// <c>byte[]</c>, UnixTimestamp <c>DateTimeOffset</c>; a list is an array of the scalar type (<c>long[]</c>, ...).
/// Timestamps are kept in UTC microseconds; finer precision is dropped when stored.
/// </remarks>
/// <param name="Entity">The entity the row belongs to.</param>
/// <param name="FeatureView">The feature view's name.</param>
/// <param name="EventTimestamp">When the values were true (the source's event time); newest-wins compares it first.</param>
/// <param name="CreatedTimestamp">When the row was produced, if the source has it; breaks event-time ties (later wins; none is oldest).</param>
/// <param name="Values">Feature values by feature name.</param>
public sealed record OnlineRow(
    EntityKey Entity,
    string FeatureView,
    DateTimeOffset EventTimestamp,
    DateTimeOffset? CreatedTimestamp,
    IReadOnlyDictionary<string, object?> Values)
{
    /// <summary>
    /// Orders two rows' versions: negative when (event, created) of this row is older than <paramref name="other"/>'s,
    /// zero when equal, positive when newer. A missing created timestamp is older than any present one.
    /// Compared at microsecond precision, as stored.
    /// </summary>
    public int CompareVersion(OnlineRow other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var e = OnlineTime.ToMicros(EventTimestamp).CompareTo(OnlineTime.ToMicros(other.EventTimestamp));
        if (e != 0) return e;
        var mine = CreatedTimestamp is { } c ? OnlineTime.ToMicros(c) : long.MinValue;
        var theirs = other.CreatedTimestamp is { } o ? OnlineTime.ToMicros(o) : long.MinValue;
        return mine.CompareTo(theirs);
    }
}

/// <summary>What a store did with one written row.</summary>
public enum OnlineWriteOutcome
{
    /// <summary>The row is now the one held (it was newer than, or as new as, the held row, or there was none).</summary>
    Applied,
    /// <summary>The store holds a newer row (by event timestamp, then created timestamp); this one was dropped.</summary>
    IgnoredAsOlder,
}

/// <summary>
/// The answer to <see cref="IOnlineStore.ReadAsync"/>: for each requested entity and feature view, the row held or null.
/// </summary>
public sealed class OnlineReadResult
{
    private readonly OnlineRow?[] _rows;

    /// <summary>Wraps rows laid out entity-major: the row of entity <c>e</c> and view <c>v</c> at <c>e * views.Count + v</c>.</summary>
    public OnlineReadResult(IReadOnlyList<EntityKey> entities, IReadOnlyList<string> featureViews, OnlineRow?[] rows)
    {
        if (rows.Length != entities.Count * featureViews.Count)
            throw new ArgumentException($"expected {entities.Count * featureViews.Count} rows, got {rows.Length}", nameof(rows));
        Entities = entities;
        FeatureViews = featureViews;
        _rows = rows;
    }

    /// <summary>The entities asked for, in request order.</summary>
    public IReadOnlyList<EntityKey> Entities { get; }
    /// <summary>The feature views asked for, in request order.</summary>
    public IReadOnlyList<string> FeatureViews { get; }

    /// <summary>The row of entity number <paramref name="entity"/> and view number <paramref name="featureView"/>; null when none is held.</summary>
    public OnlineRow? this[int entity, int featureView] => _rows[entity * FeatureViews.Count + featureView];
}

/// <summary>The answer to a health probe.</summary>
/// <param name="Healthy">Whether the store answered.</param>
/// <param name="Latency">How long the probe took.</param>
/// <param name="Detail">What was probed, or why it failed.</param>
public sealed record OnlineStoreHealth(bool Healthy, TimeSpan Latency, string Detail);

/// <summary>
/// The online store could not complete a read or write (unreachable, timed out, busy, out of space). Nothing of a failed
/// write may be acknowledged. A write is safe to retry as a whole (newest-wins makes a repeated row harmless); after a
/// failed <see cref="IOnlineStore.ClaimEventIdsAsync"/> some ids may be pending for the attempt: release them
/// (<see cref="IOnlineStore.ReleaseEventIdsAsync"/>) or let their lease lapse.
/// </summary>
public sealed class OnlineStoreUnavailableException(string message, Exception? innerException = null)
    : GranaryException(message,
        "the online store is unreachable or overloaded; retry later (the operation is safe to retry), and check that the store is running",
        innerException)
{
    /// <summary>Always true: the caller may retry the whole operation.</summary>
    public bool IsRetriable => true;

    /// <summary>
    /// This error as it may cross a grain boundary: the same message without the inner exception, which is the store
    /// driver's (e.g. StackExchange.Redis's RedisConnectionException) and has no Orleans codec, so a caller on another silo
    /// or a client would get a CodecNotFoundException instead of this typed, retriable error. Log the original first.
    /// </summary>
    public OnlineStoreUnavailableException ForCaller() => InnerException is null ? this : new OnlineStoreUnavailableException(Message);
}

/// <summary>A row whose values do not fit its feature view's schema: the message names the view, feature, expected and given type.</summary>
public sealed class OnlineRowSchemaException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>Conversions between <see cref="DateTimeOffset"/> and the UTC microseconds the online tier stores.</summary>
public static class OnlineTime
{
    /// <summary>Microseconds since the Unix epoch (UTC), rounded toward the past.</summary>
    public static long ToMicros(DateTimeOffset t)
    {
        var ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return ticks >= 0 ? ticks / 10 : -((-ticks + 9) / 10);
    }

    /// <summary>The UTC instant <paramref name="micros"/> microseconds after the Unix epoch.</summary>
    public static DateTimeOffset FromMicros(long micros)
        => new(DateTimeOffset.UnixEpoch.UtcTicks + micros * 10, TimeSpan.Zero);

    /// <summary><paramref name="t"/> in UTC truncated to whole microseconds, as the store returns it.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset t) => FromMicros(ToMicros(t));
}
