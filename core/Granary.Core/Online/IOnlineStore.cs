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
    /// Claims event ids for deduplication of pushes from at-least-once producers: per id in input order, true when it is
    /// new (claimed now, for <paramref name="window"/>), false when it was claimed within its window before (also by
    /// another process or before a restart) or earlier in the same call. Claims are durable in the store.
    /// </summary>
    /// <param name="scope">What the ids are unique within, e.g. <c>&lt;project&gt;/&lt;push source&gt;</c>.</param>
    /// <param name="eventIds">The ids; non-empty text.</param>
    /// <param name="window">How long a claim lasts; positive.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached; some ids may be claimed (see <see cref="ReleaseEventIdsAsync"/>).</exception>
    Task<IReadOnlyList<bool>> ClaimEventIdsAsync(string scope, IReadOnlyList<string> eventIds, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>Releases claims made by <see cref="ClaimEventIdsAsync"/> (when the push they guarded failed), so a retry counts them as new.</summary>
    /// <exception cref="OnlineStoreUnavailableException">The store could not be reached.</exception>
    Task ReleaseEventIdsAsync(string scope, IReadOnlyList<string> eventIds, CancellationToken cancellationToken = default);

    /// <summary>Probes the store with one cheap round trip; never throws for an unreachable store (answers unhealthy).</summary>
    Task<OnlineStoreHealth> CheckHealthAsync(CancellationToken cancellationToken = default);
}

/// <summary>The argument rules of event-id claims, shared by every <see cref="IOnlineStore"/> implementation.</summary>
public static class OnlineEventIds
{
    /// <summary>Throws when the scope or an id is empty, or (when given) the window is not positive.</summary>
    public static void CheckArguments(string scope, IReadOnlyList<string> eventIds, TimeSpan? window = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentNullException.ThrowIfNull(eventIds);
        for (var i = 0; i < eventIds.Count; i++)
            if (string.IsNullOrEmpty(eventIds[i]))
                throw new ArgumentException($"event id number {i} of scope '{scope}' is empty", nameof(eventIds));
        if (window is { } w && w <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(window), w, $"the deduplication window of scope '{scope}' must be positive");
    }
}
