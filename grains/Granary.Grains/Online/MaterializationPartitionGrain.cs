using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Observability;
using Granary.Offline;
using Granary.Online;
using Granary.Quality;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Online;

/// <summary>
/// One partition of a materialization run: streams the latest row per entity of its hash partition from the offline store
/// (the store's query picks the latest; nothing is deduplicated in memory) and writes them to the online store in
/// pipelined batches, so memory stays bounded by the batches in flight whatever the view's size. The view's data rules
/// apply on the way: rows breaking a reject rule are dropped, a quarantine rule's rows go to the quarantine, warn rows
/// are written; all are counted.
/// </summary>
[GrainType("materialization-partition")]
public sealed class MaterializationPartitionGrain(
    IEnumerable<IOfflineStore> offlineStores, IOnlineStore onlineStore, RegistryCache registry, IOptions<MaterializationOptions> options,
    IQuarantineStore quarantine, TimeProvider time, Erasure.TombstoneCache tombstones)
    : Grain, IMaterializationPartitionGrain
{
    /// <summary>The source name quarantined materialization rows carry.</summary>
    public const string QuarantineSource = "materialization";

    // Quarantined rows are stored in batches of this many, so a partition's memory stays bounded.
    private const int QuarantineBatch = 500;

    private long _rowsRead;

    /// <inheritdoc/>
    public async Task<long> RunAsync(string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count)
    {
        try
        {
            // Off the activation's scheduler: the offline engine's reads block their thread (DuckDB computes the window
            // query before the first row comes back, tens of seconds on a large view). On the grain's scheduler that
            // blocked an Orleans turn, so GetProgressAsync could not interleave and the coordinator's status call timed out.
            var written = await Task.Run(() => WritePartitionAsync(project, view, start, end, index, count));
            DeactivateOnIdle();
            return written;
        }
        catch (OnlineStoreUnavailableException e) when (e.InnerException is not null)
        {
            // The driver's inner exception (e.g. RedisConnectionException) cannot cross to the coordinator's silo; the
            // message names the cause, and the coordinator retries this type.
            throw new OnlineStoreUnavailableException(e.Message);
        }
    }

    /// <inheritdoc/>
    public async Task<DataRuleCounts> CheckAsync(string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count)
    {
        var tally = await Task.Run(async () =>
        {
            var (definition, _, rows) = await ReadAsync(project, view, start, end, index, count);
            var checker = PushRules.CheckerFor(definition);
            var result = new DataRuleTally(checker.RuleCount, definition.Features.Count);
            var columns = Enumerable.Range(0, definition.Features.Count).ToArray();
            var broken = new int[checker.RuleCount];
            var values = new object?[definition.Features.Count];
            await foreach (var latest in rows)
            {
                Copy(latest.FeatureValues, values);
                result.Count(checker, values, columns, broken, out _);
                Interlocked.Increment(ref _rowsRead);
            }
            return result;
        });
        DeactivateOnIdle();
        return DataRuleCounts.From(tally);
    }

    private async Task<(FeatureView Definition, IReadOnlyList<string> JoinKeys, IAsyncEnumerable<LatestFeatureRow> Rows)> ReadAsync(
        string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count)
    {
        var snapshot = await registry.GetAsync(project);
        var definition = snapshot.FeatureViews.FirstOrDefault(v => v.Name == view)
            ?? throw new MaterializationException($"project '{project}' has no feature view '{view}' any more (registry version {snapshot.Version})");
        var source = OfflineSources.ResolveBatchSource(snapshot, definition);
        var store = offlineStores.FirstOrDefault(s => s.CanRead(source))
            ?? throw new MaterializationException($"no configured offline store reads source '{source.Name}' of feature view '{view}'");
        var joinKeys = definition.Entities.Select(e => snapshot.Entities.First(x => x.Name == e).JoinKey).ToList();
        var query = new LatestRowsQuery
        {
            View = definition, Source = source, JoinKeys = joinKeys, Features = definition.Features.Select(f => f.Name).ToList(),
            Start = start, End = end, PartitionCount = count, PartitionIndex = index,
        };
        return (definition, joinKeys, store.ReadLatestRowsAsync(query));
    }

    private async Task<long> WritePartitionAsync(string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count)
    {
        var (definition, joinKeys, rows) = await ReadAsync(project, view, start, end, index, count);
        var features = definition.Features.Select(f => f.Name).ToList();
        var checker = PushRules.CheckerFor(definition);
        var tally = new DataRuleTally(checker.RuleCount, features.Count);
        var columns = Enumerable.Range(0, features.Count).ToArray();
        var broken = new int[checker.RuleCount];
        var quarantined = new List<QuarantineEntry>();

        var erased = await tombstones.GetAsync(project);
        var checkErased = erased.Covers(view);
        long dropped = 0;
        var batchSize = Math.Max(1, options.Value.BatchSize);
        var inFlight = new Queue<Task>();
        var batch = new List<OnlineRow>(batchSize);
        long written = 0;
        await foreach (var latest in rows)
        {
            Interlocked.Increment(ref _rowsRead);
            var keyParts = new KeyValuePair<string, string>[joinKeys.Count];
            for (var k = 0; k < keyParts.Length; k++)
                keyParts[k] = new(joinKeys[k], EntityKey.FormatValue(joinKeys[k], latest.JoinKeyValues[k]));
            var entity = EntityKey.Create(project, keyParts);
            // An erased entity's upstream row from before the erasure stays out of the online store (and out of the quarantine).
            if (checkErased && erased.Buries(view, entity, latest.EventTimestamp))
            {
                dropped++;
                continue;
            }
            var values = new object?[features.Count];
            Copy(latest.FeatureValues, values);
            if (!checker.IsEmpty)
            {
                var outcome = tally.Count(checker, values, columns, broken, out var brokenCount);
                if (outcome == DataRuleOutcome.Reject) continue;
                if (outcome == DataRuleOutcome.Quarantine)
                {
                    var rule = checker.FirstWith(broken.AsSpan(0, brokenCount), DataRuleOutcome.Quarantine);
                    quarantined.Add(new QuarantineEntry(view, checker.NameOf(rule), QuarantineSource, QuarantinedRows.Json(joinKeys, latest, features)));
                    if (quarantined.Count >= QuarantineBatch) await FlushAsync(project, quarantined);
                    continue;
                }
            }
            var byName = new Dictionary<string, object?>(features.Count, StringComparer.Ordinal);
            for (var f = 0; f < features.Count; f++) byName[features[f]] = values[f];
            batch.Add(new OnlineRow(entity, view, latest.EventTimestamp, latest.CreatedTimestamp, byName));
            if (batch.Count < batchSize) continue;
            inFlight.Enqueue(onlineStore.WriteAsync(batch));
            written += batch.Count;
            batch = new List<OnlineRow>(batchSize);
            // Bounded pipelining: at most N batches wait on the store at once.
            if (inFlight.Count >= Math.Max(1, options.Value.BatchesInFlight)) await inFlight.Dequeue();
        }
        if (batch.Count > 0)
        {
            inFlight.Enqueue(onlineStore.WriteAsync(batch));
            written += batch.Count;
        }
        while (inFlight.Count > 0) await inFlight.Dequeue();
        await FlushAsync(project, quarantined);
        if (!checker.IsEmpty) DataRuleMetrics.Record(checker, tally, QuarantineSource);
        Granary.Observability.GranaryMetrics.RecordErasedRowsDropped(view, "materialization", dropped);
        return written;
    }

    private async Task FlushAsync(string project, List<QuarantineEntry> entries)
    {
        if (entries.Count == 0) return;
        await quarantine.AddQuarantinedAsync(project, entries, time.GetUtcNow());
        entries.Clear();
    }

    private static void Copy(IReadOnlyList<object?> from, object?[] to)
    {
        for (var i = 0; i < to.Length; i++) to[i] = from[i];
    }

    /// <inheritdoc/>
    public Task<long> GetProgressAsync() => Task.FromResult(Volatile.Read(ref _rowsRead));
}
