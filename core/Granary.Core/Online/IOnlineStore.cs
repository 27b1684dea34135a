namespace Granary.Online;

/// <summary>
/// Where the online tier keeps the newest row of every (entity, feature view). Implementations: Redis (production) and
/// SQLite (embedded default). Every implementation enforces newest-wins itself, atomically per row: a row older than the
/// one held (by event timestamp, then created timestamp; none is oldest) never replaces it, whichever process or path
/// writes it. A row as new as the one held replaces it (so a corrected re-run of the same window takes effect).
/// </summary>
/// <remarks>
/// Every failure to reach or use the store is thrown as <see cref="OnlineStoreUnavailableException"/> (retriable);
/// callers acknowledge a write only after <see cref="WriteAsync"/> returned.
/// </remarks>
public interface IOnlineStore : IAsyncDisposable
{
    /// <summary>
    /// Writes many rows in one pipelined batch. Returns, per row in input order, whether it was applied or ignored as
    /// older. Rows of the same (entity, view) within one batch are applied in order, each against the one held, so an
    /// out-of-order batch still leaves the newest. When the store has a key expiry, an applied row renews it.
    /// </summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not take the batch; some rows may be stored, none is acknowledged.</exception>
    /// <exception cref="OnlineRowSchemaException">A value has a type the online tier cannot hold (nothing written).</exception>
    Task<IReadOnlyList<OnlineWriteOutcome>> WriteAsync(IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the rows held for every entity in <paramref name="entities"/> and every view in <paramref name="featureViews"/>,
    /// in one round trip per store call (pipelined or one query). Expired rows read as none.
    /// </summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be read.</exception>
    Task<OnlineReadResult> ReadAsync(IReadOnlyList<EntityKey> entities, IReadOnlyList<string> featureViews, CancellationToken cancellationToken = default);

    /// <summary>Deletes every row of <paramref name="featureView"/> in <paramref name="project"/> (teardown); returns how many rows were deleted.</summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached.</exception>
    Task<long> DeleteFeatureViewAsync(string project, string featureView, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the rows of <paramref name="entity"/> in each of <paramref name="featureViews"/> (erasure); returns how many
    /// (entity, view) rows were deleted. A later write of the entity is taken as a first write (erasure keeps old rows out
    /// with tombstones, not here).
    /// </summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached; some rows may be deleted.</exception>
    Task<long> DeleteEntityAsync(EntityKey entity, IReadOnlyList<string> featureViews, CancellationToken cancellationToken = default);

    /// <summary>
    /// False while the store is known to be unreachable (its connection is down), without a round trip: an entity grain
    /// then flags what it serves from its cache as served from cache. Stores that cannot lose their connection (a local
    /// file) are always reachable.
    /// </summary>
    bool IsReachable => true;

    /// <summary>
    /// Claims event ids for deduplication of pushes from at-least-once producers, first phase: per id in input order,
    /// <see cref="EventIdClaim.Claimed"/> when this attempt now holds it as pending (for <paramref name="lease"/>, unless
    /// committed or released before), <see cref="EventIdClaim.Committed"/> when an attempt that stored its rows committed
    /// it within its window, <see cref="EventIdClaim.Pending"/> when another attempt holds it pending under a live lease,
    /// and <see cref="EventIdClaim.Repeated"/> for an id that occurs earlier in the same call. A pending claim whose lease
    /// ended (its attempt died or stalled) is taken over as <see cref="EventIdClaim.TakenOver"/>. Atomic per id, durable in the store,
    /// shared by every process.
    /// </summary>
    /// <param name="scope">What the ids are unique within, e.g. <c>&lt;project&gt;/&lt;push source&gt;</c>.</param>
    /// <param name="eventIds">The ids; non-empty text.</param>
    /// <param name="attempt">The claiming attempt's token (unique per attempt); non-empty text.</param>
    /// <param name="lease">How long a pending claim holds if its attempt neither commits nor releases it; positive.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached; some ids may be pending for <paramref name="attempt"/> (their lease lapses, or release them).</exception>
    Task<IReadOnlyList<EventIdClaim>> ClaimEventIdsAsync(string scope, IReadOnlyList<string> eventIds, string attempt, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Second phase: marks ids committed for <paramref name="window"/>, after every write they guarded succeeded. From then
    /// on a claim of them answers <see cref="EventIdClaim.Committed"/> (its rows are dropped as duplicates).
    /// </summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached; some ids may still be pending.</exception>
    Task CommitEventIdsAsync(string scope, IReadOnlyList<string> eventIds, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases the ids <paramref name="attempt"/> holds pending (when the push they guarded failed), so a retry claims them
    /// at once; ids committed, or pending for another attempt, are left as they are.
    /// </summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached (the claims lapse with their lease).</exception>
    Task ReleaseEventIdsAsync(string scope, IReadOnlyList<string> eventIds, string attempt, CancellationToken cancellationToken = default);

    /// <summary>Probes the store with one cheap round trip; never throws for an unreachable store (answers unhealthy).</summary>
    Task<OnlineStoreHealth> CheckHealthAsync(CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="IOnlineStore.ClaimEventIdsAsync"/> found for one event id.</summary>
public enum EventIdClaim
{
    /// <summary>New (or its earlier claim lapsed or was released): held pending by the calling attempt now.</summary>
    Claimed,
    /// <summary>Committed by an attempt whose rows are stored, within the deduplication window: a duplicate.</summary>
    Committed,
    /// <summary>Held pending by another attempt under a live lease: its rows may not be stored yet.</summary>
    Pending,
    /// <summary>The same id occurs earlier in the same call: a duplicate within the batch.</summary>
    Repeated,
    /// <summary>
    /// Held pending by an earlier attempt whose lease lapsed, and by the calling attempt now. The earlier attempt may have
    /// stored some of its rows before it stopped (say, offline, with the commit lost), so the caller must not add them twice.
    /// </summary>
    TakenOver,
}

/// <summary>The argument rules of event-id claims, shared by every <see cref="IOnlineStore"/> implementation.</summary>
public static class OnlineEventIds
{
    /// <summary>
    /// Throws when the scope, an id or (when given) the attempt is empty, or (when given) the window or lease is not positive.
    /// </summary>
    public static void CheckArguments(string scope, IReadOnlyList<string> eventIds, TimeSpan? window = null, string? attempt = null)
    {
        if (attempt is not null) ArgumentException.ThrowIfNullOrEmpty(attempt);
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentNullException.ThrowIfNull(eventIds);
        for (var i = 0; i < eventIds.Count; i++)
            if (string.IsNullOrEmpty(eventIds[i]))
                throw new ArgumentException($"event id number {i} of scope '{scope}' is empty", nameof(eventIds));
        if (window is { } w && w <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(window), w, $"the deduplication window or claim lease of scope '{scope}' must be positive");
    }
}
