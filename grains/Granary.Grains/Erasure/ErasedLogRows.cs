using Granary.Erasure;
using Granary.Grains.Health;
using Granary.Observability;
using Granary.Online;

namespace Granary.Grains.Erasure;

/// <summary>The feature log's tombstone check: a row served at or before its entity's erasure is not written.</summary>
public static class ErasedLogRows
{
    /// <summary>The rows of <paramref name="batch"/> whose entity was not erased from its view at or after the time they were served.</summary>
    public static IEnumerable<FeatureLogEntry> Unerased(TombstoneSet tombstones, string project, FeatureLogBatch batch)
    {
        if (!tombstones.Covers(batch.FeatureView)) return batch.Rows;
        var kept = new List<FeatureLogEntry>(batch.Rows.Length);
        foreach (var row in batch.Rows)
        {
            if (KeyOf(project, batch.JoinKeys, row.JoinKeyValues) is { } key && tombstones.Buries(batch.FeatureView, key, row.RequestTime))
                GranaryMetrics.RecordErasedRowsDropped(batch.FeatureView, "feature_log", 1);
            else kept.Add(row);
        }
        return kept;
    }

    // A served row whose key values cannot form an entity key (a caller sent a float) names no stored entity, so no tombstone.
    private static EntityKey? KeyOf(string project, string[] joinKeys, object?[] values)
    {
        try
        {
            return EntityKey.Create(project, joinKeys.Select((k, i) => new KeyValuePair<string, string>(k, EntityKey.FormatValue(k, values[i]))));
        }
        catch (InvalidEntityKeyException)
        {
            return null;
        }
    }
}
