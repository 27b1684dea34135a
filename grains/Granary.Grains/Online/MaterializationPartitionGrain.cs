using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Online;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Online;

/// <summary>
/// One partition of a materialization run: streams the latest row per entity of its hash partition from the offline store
/// (the store's query picks the latest; nothing is deduplicated in memory) and writes them to the online store in
/// pipelined batches, so memory stays bounded by the batches in flight whatever the view's size.
/// </summary>
[GrainType("materialization-partition")]
public sealed class MaterializationPartitionGrain(
    IEnumerable<IOfflineStore> offlineStores, IOnlineStore onlineStore, RegistryCache registry, IOptions<MaterializationOptions> options,
    Erasure.TombstoneCache tombstones)
    : Grain, IMaterializationPartitionGrain
{
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

    private async Task<long> WritePartitionAsync(string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count)
    {
        var snapshot = await registry.GetAsync(project);
        var definition = snapshot.FeatureViews.FirstOrDefault(v => v.Name == view)
            ?? throw new MaterializationException($"project '{project}' has no feature view '{view}' any more (registry version {snapshot.Version})");
        var source = OfflineSources.ResolveBatchSource(snapshot, definition);
        var store = offlineStores.FirstOrDefault(s => s.CanRead(source))
            ?? throw new MaterializationException($"no configured offline store reads source '{source.Name}' of feature view '{view}'");
        var joinKeys = definition.Entities.Select(e => snapshot.Entities.First(x => x.Name == e).JoinKey).ToList();
        var features = definition.Features.Select(f => f.Name).ToList();
        var query = new LatestRowsQuery
        {
            View = definition, Source = source, JoinKeys = joinKeys, Features = features,
            Start = start, End = end, PartitionCount = count, PartitionIndex = index,
        };

        var erased = await tombstones.GetAsync(project);
        var checkErased = erased.Covers(view);
        long dropped = 0;
        var batchSize = Math.Max(1, options.Value.BatchSize);
        var inFlight = new Queue<Task>();
        var batch = new List<OnlineRow>(batchSize);
        long written = 0;
        await foreach (var latest in store.ReadLatestRowsAsync(query))
        {
            var keyParts = new KeyValuePair<string, string>[joinKeys.Count];
            for (var k = 0; k < keyParts.Length; k++)
                keyParts[k] = new(joinKeys[k], EntityKey.FormatValue(joinKeys[k], latest.JoinKeyValues[k]));
            var values = new Dictionary<string, object?>(features.Count, StringComparer.Ordinal);
            for (var f = 0; f < features.Count; f++) values[features[f]] = latest.FeatureValues[f];
            var entity = EntityKey.Create(project, keyParts);
            Interlocked.Increment(ref _rowsRead);
            // An erased entity's upstream row from before the erasure stays out of the online store.
            if (checkErased && erased.Buries(view, entity, latest.EventTimestamp))
            {
                dropped++;
                continue;
            }
            batch.Add(new OnlineRow(entity, view, latest.EventTimestamp, latest.CreatedTimestamp, values));
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
        Granary.Observability.GranaryMetrics.RecordErasedRowsDropped(view, "materialization", dropped);
        return written;
    }

    /// <inheritdoc/>
    public Task<long> GetProgressAsync() => Task.FromResult(Volatile.Read(ref _rowsRead));
}
