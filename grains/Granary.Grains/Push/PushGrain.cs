using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Observability;
using Granary.Offline;
using Granary.Online;
using Granary.Push;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Granary.Grains.Push;

/// <summary>
/// Runs pushes on the silo that receives them: validates with core's <see cref="PushValidator"/>, claims event ids in the
/// online store (durable, shared by every silo), writes each entity's rows in one <see cref="IEntityGrain"/> call (all
/// entities at once, so active grains' caches follow), appends offline last, and releases the claims when any write fails
/// so a retry is not mistaken for a duplicate.
/// </summary>
// Reentrant: the grain keeps no state between calls, so one activation may run many pushes while they wait on the stores.
[GrainType("push"), StatelessWorker, Reentrant]
public sealed partial class PushGrain(
    IOnlineStore onlineStore, IEnumerable<IOfflineStore> offlineStores, RegistryCache registry, IOptions<PushOptions> options, ILogger<PushGrain> logger)
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
        var offline = request.To.WritesOffline()
            ? offlineStores.FirstOrDefault(s => s.CanRead(plan.BatchSource))
              ?? throw new PushDefinitionException($"no configured offline store takes batch source '{plan.BatchSource.Name}' of push source '{sourceName}'",
                  "configure the offline store of that source kind in granary.yaml")
            : null;

        var scope = $"{project}/{sourceName}";
        var (kept, claimed) = await ClaimAsync(pushed, scope, settings.DeduplicationWindow);
        try
        {
            var (applied, ignored) = request.To.WritesOnline() ? await WriteOnlineAsync(pushed, kept) : (0, 0);
            var appended = offline is not null && kept.Count > 0 ? await offline.AppendRowsAsync(plan.BatchSource, pushed.OfflineRows(kept)) : 0;
            GranaryMetrics.RecordPush(sourceName, pushed.RowCount, rejected: 0, duplicates: pushed.RowCount - kept.Count);
            return new PushResult(pushed.RowCount, kept.Count, pushed.RowCount - kept.Count, ignored, applied, appended);
        }
        catch (Exception e) when (claimed.Count > 0)
        {
            await ReleaseAsync(scope, claimed, e);
            throw;
        }
    }

    /// <summary>The rows to store (indexes) and the event ids claimed for them; rows whose id is already claimed are dropped.</summary>
    private async Task<(List<int> Kept, List<string> Claimed)> ClaimAsync(ValidatedPush pushed, string scope, TimeSpan window)
    {
        var kept = new List<int>(pushed.RowCount);
        var claimed = new List<string>();
        if (pushed.EventIds is not { } ids)
        {
            for (var r = 0; r < pushed.RowCount; r++) kept.Add(r);
            return (kept, claimed);
        }
        var all = ids.Select(id => id!).ToList();
        IReadOnlyList<bool> fresh;
        try
        {
            fresh = await onlineStore.ClaimEventIdsAsync(scope, all, window);
        }
        catch (OnlineStoreUnavailableException e)
        {
            // Some ids may be claimed already; give them back so the producer's retry is not counted as a duplicate.
            await ReleaseAsync(scope, all.Distinct(StringComparer.Ordinal).ToList(), e);
            throw;
        }
        for (var r = 0; r < all.Count; r++)
        {
            if (!fresh[r]) continue;
            kept.Add(r);
            claimed.Add(all[r]);
        }
        return (kept, claimed);
    }

    /// <summary>One grain call per entity with all its rows (in batch order, so the store keeps the newest), every entity at once.</summary>
    private async Task<(int Applied, int Ignored)> WriteOnlineAsync(ValidatedPush pushed, List<int> kept)
    {
        var perEntity = new Dictionary<string, List<EntityWriteRow>>(StringComparer.Ordinal);
        foreach (var target in pushed.Plan.Targets)
        {
            if (!target.View.Online) continue;
            foreach (var r in kept)
            {
                var row = pushed.OnlineRowOf(r, target);
                if (!perEntity.TryGetValue(row.Entity.Canonical, out var rows)) perEntity[row.Entity.Canonical] = rows = [];
                rows.Add(EntityWriteRow.From(row));
            }
        }
        var calls = new List<Task<bool[]>>(perEntity.Count);
        foreach (var (entity, rows) in perEntity)
            calls.Add(GrainFactory.GetGrain<IEntityGrain>(entity).WriteAsync(new EntityWrite([.. rows])));
        var outcomes = await Task.WhenAll(calls);
        var (applied, ignored) = (0, 0);
        foreach (var outcome in outcomes)
            foreach (var ok in outcome)
                if (ok) applied++; else ignored++;
        return (applied, ignored);
    }

    private async Task ReleaseAsync(string scope, List<string> ids, Exception cause)
    {
        try
        {
            await onlineStore.ReleaseEventIdsAsync(scope, ids);
        }
        catch (Exception e)
        {
            // The push fails either way; until the window ends a retry of these ids would be dropped as duplicates.
            LogReleaseFailed(logger, ids.Count, scope, cause.Message, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A push to {Scope} failed ({Cause}) and its {Count} event ids could not be released; retries within the window will be dropped as duplicates")]
    private static partial void LogReleaseFailed(ILogger logger, int count, string scope, string cause, Exception exception);
}
