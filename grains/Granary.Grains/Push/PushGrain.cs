using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Observability;
using Granary.Offline;
using Granary.Online;
using Granary.Push;
using Granary.Quality;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Diagnostics;
using Orleans.Concurrency;

namespace Granary.Grains.Push;

/// <summary>
/// Runs pushes on the silo that receives them: validates with core's <see cref="PushValidator"/>, claims event ids as
/// pending in the online store (durable, shared by every silo), writes the batch's online rows in one pipelined store write
/// (newest-wins enforced by the store), hands the written rows to every silo so the entity grains active there update their
/// caches, appends offline last, and commits the ids only once every write succeeded. Only committed ids make a retry's rows duplicates; a retry meeting ids pending under another attempt
/// waits for that attempt (or takes over when its lease lapses), so no push is acknowledged before its rows are stored.
/// </summary>
// Reentrant: the grain keeps no state between calls, so one activation may run many pushes while they wait on the stores.
[GrainType("push"), StatelessWorker, Reentrant]
public sealed partial class PushGrain(
    IOnlineStore onlineStore, IEnumerable<IOfflineStore> offlineStores, RegistryCache registry, IClusterMembershipService membership,
    IOptions<PushOptions> options, Erasure.TombstoneCache tombstones, ILogger<PushGrain> logger, IQuarantineStore quarantine, TimeProvider time)
    : Grain, IPushGrain
{
    /// <inheritdoc/>
    public async Task<PushResult> PushAsync(PushRequest request)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1)
            throw new PushDefinitionException($"push grain key '{key}' is not <project>/<push source>");
        var (project, sourceName) = (key[..slash], key[(slash + 1)..]);
        var settings = options.Value;
        if (settings.Problems() is { Count: > 0 } problems) throw new PushDefinitionException(string.Join("; ", problems));

        var snapshot = await registry.GetAsync(project);
        var plan = PushPlan.For(snapshot, sourceName);
        ValidatedPush pushed;
        try
        {
            pushed = PushValidator.Validate(plan, new PushBatch(request.Columns, request.Rows), settings.EventIdColumn);
        }
        catch (PushValidationException)
        {
            // A bad batch is rejected whole. Counted only once the source is known, so labels stay registry names.
            GranaryMetrics.RecordPush(sourceName, request.Rows.Length, rejected: request.Rows.Length, duplicates: 0);
            throw;
        }
        // Data rules: a reject rule fails the batch whole; quarantined rows are set aside below, after their ids are claimed.
        var rules = PushRules.Check(pushed, request.ReleasedRules);
        foreach (var (checker, tally) in rules.Tallies) DataRuleMetrics.Record(checker, rules.Rejected ? tally.OnlyRejections(checker) : tally, "push");
        if (rules.Rejected)
        {
            GranaryMetrics.RecordPush(sourceName, request.Rows.Length, rejected: request.Rows.Length, duplicates: 0);
            rules.ThrowIfRejected();
        }
        var offline = request.To.WritesOffline()
            ? offlineStores.FirstOrDefault(s => s.CanRead(plan.BatchSource))
              ?? throw new PushDefinitionException($"no configured offline store takes batch source '{plan.BatchSource.Name}' of push source '{sourceName}'",
                  "configure the offline store of that source kind in granary.yaml")
            : null;

        var scope = $"{project}/{sourceName}";
        var attempt = Guid.NewGuid().ToString("N");
        // Loaded before any id is claimed, so a registry database that cannot be read fails the push with nothing held.
        var erased = await tombstones.GetAsync(project);
        var (claimedRows, claimed, tookOver) = await ClaimAsync(pushed, scope, attempt, settings);
        var duplicates = pushed.RowCount - claimedRows.Count;
        // Rows of erased entities are dropped, not stored; their event ids are committed with the rest (handled, not retried).
        var unerased = Granary.Erasure.ErasedRows.Unerased(erased, pushed, claimedRows);
        var (kept, quarantined) = rules.QuarantinedCount == 0 ? (unerased, 0) : SetAside(unerased, rules);
        int applied, ignored;
        long appended;
        try
        {
            (applied, ignored) = request.To.WritesOnline() ? await WriteOnlineAsync(project, pushed, kept) : (0, 0);
            if (offline is not null && kept.Count > 0)
            {
                // Renews the lease before the append (one append per id): an attempt slower than its lease may have been
                // taken over by a retry, which then appends these rows itself.
                if (claimed.Count > 0) await KeepClaimsAsync(scope, claimed, attempt, settings.ClaimLease);
                // After a takeover, the attempt that stopped may have appended these rows already: equal rows are not added twice.
                appended = await offline.AppendRowsAsync(plan.BatchSource, pushed.OfflineRows(kept) with { SkipStoredCopies = tookOver });
            }
            else appended = 0;
            // Set aside last, so a failed write leaves no quarantine entry; claimed ids make a resent batch's rows duplicates.
            if (quarantined > 0)
                await quarantine.AddQuarantinedAsync(project, unerased.Where(rules.IsQuarantined).Select(rules.EntryOf).ToList(), time.GetUtcNow());
        }
        catch (Exception e) when (claimed.Count > 0)
        {
            await ReleaseAsync(scope, claimed, attempt, e);
            throw ForCaller(e);
        }
        catch (OnlineStoreUnavailableException e)
        {
            throw ForCaller(e);
        }
        if (claimed.Count > 0) await CommitAsync(scope, claimed, settings.DeduplicationWindow);
        GranaryMetrics.RecordPush(sourceName, pushed.RowCount, rejected: 0, duplicates: duplicates);
        return new PushResult(pushed.RowCount, kept.Count, duplicates, ignored, applied, appended)
        {
            RowsQuarantined = quarantined, RowsWarned = kept.Count(rules.IsWarned),
        };
    }

    /// <summary>
    /// The rows to store (indexes) and the event ids this attempt holds pending for them. Rows whose id is committed (stored
    /// by an earlier attempt) or repeated within the batch are dropped; rows whose id another attempt holds pending wait
    /// until it commits (then they are dropped) or its lease lapses or it releases them (then this attempt stores them).
    /// TookOver says whether any id was taken over from a lapsed attempt (which may have stored some rows).
    /// </summary>
    private async Task<(List<int> Kept, List<string> Claimed, bool TookOver)> ClaimAsync(ValidatedPush pushed, string scope, string attempt, PushOptions settings)
    {
        var kept = new List<int>(pushed.RowCount);
        var claimed = new List<string>();
        if (pushed.EventIds is not { } ids)
        {
            for (var r = 0; r < pushed.RowCount; r++) kept.Add(r);
            return (kept, claimed, false);
        }
        var all = ids.Select(id => id!).ToList();
        var claims = new EventIdClaim[all.Count];
        var waiting = Enumerable.Range(0, all.Count).ToList();
        var waited = Stopwatch.StartNew();
        var pause = FirstPause;
        for (var round = 0; waiting.Count > 0; round++)
        {
            if (round > 0)
            {
                if (waited.Elapsed >= settings.PendingWait)
                {
                    var mine = Claimed(all, claims);
                    var cause = new OnlineStoreUnavailableException(
                        $"push to '{scope}': {waiting.Count} of its {all.Count} event ids are still pending under an earlier attempt after {settings.PendingWait.TotalSeconds:0.#} s; " +
                        "their rows are not stored yet, so this push is not acknowledged; retry it");
                    if (mine.Count > 0) await ReleaseAsync(scope, mine, attempt, cause);
                    throw cause;
                }
                await Task.Delay(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxPause.Ticks));
            }
            IReadOnlyList<EventIdClaim> found;
            try
            {
                found = await onlineStore.ClaimEventIdsAsync(scope, waiting.Select(i => all[i]).ToList(), attempt, settings.ClaimLease);
            }
            catch (OnlineStoreUnavailableException e)
            {
                // Some ids may be pending for this attempt; give them back so a retry need not wait for their lease.
                await ReleaseAsync(scope, all.Distinct(StringComparer.Ordinal).ToList(), attempt, e);
                throw ForCaller(e);
            }
            for (var j = 0; j < waiting.Count; j++) claims[waiting[j]] = found[j];
            waiting = waiting.Where(i => claims[i] == EventIdClaim.Pending).ToList();
        }
        for (var r = 0; r < all.Count; r++)
            if (Holds(claims[r])) kept.Add(r);
        return (kept, Claimed(all, claims), claims.Contains(EventIdClaim.TakenOver));
    }

    /// <summary>The claimed rows to store (those no quarantine rule holds), and how many are set aside.</summary>
    private static (List<int> Kept, int Quarantined) SetAside(List<int> claimedRows, PushRuleVerdict rules)
    {
        var kept = new List<int>(claimedRows.Count);
        foreach (var r in claimedRows)
            if (!rules.IsQuarantined(r)) kept.Add(r);
        return (kept, claimedRows.Count - kept.Count);
    }

    private static bool Holds(EventIdClaim claim) => claim is EventIdClaim.Claimed or EventIdClaim.TakenOver;

    private static List<string> Claimed(List<string> all, EventIdClaim[] claims)
        => Enumerable.Range(0, all.Count).Where(r => Holds(claims[r])).Select(r => all[r]).ToList();

    /// <summary>The first and longest pause between polls of ids pending under another attempt.</summary>
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(20), MaxPause = TimeSpan.FromMilliseconds(500);

    /// <summary>Renews this attempt's pending claims; fails (retriably) when a retry took any over after the lease lapsed.</summary>
    private async Task KeepClaimsAsync(string scope, List<string> claimed, string attempt, TimeSpan lease)
    {
        var renewed = await onlineStore.ClaimEventIdsAsync(scope, claimed, attempt, lease);
        var lost = renewed.Count(c => !Holds(c));
        if (lost > 0)
            throw new OnlineStoreUnavailableException(
                $"push to '{scope}' outlived its claim lease ({lease.TotalSeconds:0.#} s): a retry took over {lost} of its event ids and stores their rows; " +
                "this attempt is not acknowledged; retry it, or raise Granary:Push:ClaimLease above the slowest push");
    }

    /// <summary>
    /// Marks the ids committed once every row is stored. A failure here is logged, not thrown: the rows are stored, so the
    /// push is acknowledged; the claims stay pending until their lease lapses, and a retry after that stores the rows again.
    /// </summary>
    private async Task CommitAsync(string scope, List<string> claimed, TimeSpan window)
    {
        try
        {
            await onlineStore.CommitEventIdsAsync(scope, claimed, window);
        }
        catch (OnlineStoreUnavailableException e)
        {
            LogCommitFailed(logger, claimed.Count, scope, e);
        }
    }

    /// <summary>
    /// Writes the kept rows of every online view in one store write (batch order, so the store keeps the newest of an entity's
    /// rows), then tells every silo, so that no entity grain answers from a cache older than what was written.
    /// </summary>
    private async Task<(int Applied, int Ignored)> WriteOnlineAsync(string project, ValidatedPush pushed, List<int> kept)
    {
        var rows = new List<OnlineRow>(kept.Count);
        foreach (var target in pushed.Plan.Targets)
        {
            if (!target.View.Online) continue;
            foreach (var r in kept)
            {
                var row = pushed.OnlineRowOf(r, target);
                OnlineValueTypes.Check(row, target.View);
                rows.Add(row);
            }
        }
        if (rows.Count == 0) return (0, 0);
        var outcomes = await onlineStore.WriteAsync(rows);
        var entities = new string[rows.Count];
        var written = new EntityWriteRow[rows.Count];
        var applied = new bool[rows.Count];
        var count = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            entities[i] = rows[i].Entity.Canonical;
            written[i] = EntityWriteRow.From(rows[i]);
            applied[i] = outcomes[i] == OnlineWriteOutcome.Applied;
            if (applied[i]) count++;
        }
        await TellSilosAsync(new WrittenRows(project, entities, written, applied));
        return (count, rows.Count - count);
    }

    /// <summary>
    /// Hands the written rows to every active silo's <see cref="ISiloOnlineCacheGrain"/> (one call per silo, its active entity
    /// grains follow). A silo that cannot be told fails the push (retriable; the rows are stored, a retry rewrites them
    /// harmlessly), unless it has left the cluster meanwhile: its grains are gone with it.
    /// </summary>
    private async Task TellSilosAsync(WrittenRows written)
    {
        var silos = ActiveSilos();
        var calls = silos.Select(silo => GrainFactory.GetGrain<ISiloOnlineCacheGrain>(silo.ToParsableString()).RowsWrittenAsync(written)).ToArray();
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception)
        {
            var active = ActiveSilos();
            var untold = silos.Where((silo, i) => !calls[i].IsCompletedSuccessfully && active.Contains(silo)).ToList();
            if (untold.Count == 0) return;
            var cause = calls.First(c => c.IsFaulted).Exception!.InnerException!;
            LogSiloNotTold(logger, untold.Count, cause);
            throw new OnlineStoreUnavailableException(
                $"the online rows of a push to '{written.Project}' are stored, but silo {untold[0]} could not be told to refresh its entity caches ({cause.GetType().Name}); " +
                "the push is not acknowledged; retry it");
        }
    }

    private List<SiloAddress> ActiveSilos()
        => membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();

    private async Task ReleaseAsync(string scope, List<string> ids, string attempt, Exception cause)
    {
        try
        {
            await onlineStore.ReleaseEventIdsAsync(scope, ids, attempt);
        }
        catch (Exception e)
        {
            // The push fails either way; its pending claims lapse with their lease, and a retry waits for that at most.
            LogReleaseFailed(logger, ids.Count, scope, cause.Message, e);
        }
    }

    /// <summary>An error as it may cross the grain boundary (logged here when the store driver's inner exception is dropped).</summary>
    private Exception ForCaller(Exception e)
    {
        if (e is not OnlineStoreUnavailableException { InnerException: not null } unavailable) return e;
        LogStoreUnavailable(logger, e);
        return unavailable.ForCaller();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A push to {Scope} failed ({Cause}) and its {Count} pending event ids could not be released; they lapse with their lease")]
    private static partial void LogReleaseFailed(ILogger logger, int count, string scope, string cause, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A push to {Scope} stored its rows but could not commit its {Count} event ids; they lapse with their lease, so a retry after that is stored again")]
    private static partial void LogCommitFailed(ILogger logger, int count, string scope, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A push stored its online rows but could not tell {Count} active silos to refresh their entity caches; the push fails")]
    private static partial void LogSiloNotTold(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A push failed: the online store is unavailable")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception);
}
