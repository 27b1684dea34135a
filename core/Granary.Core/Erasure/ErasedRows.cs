using Granary.Observability;
using Granary.Push;

namespace Granary.Erasure;

/// <summary>The push path's tombstone check: rows of erased entities are dropped before anything is stored.</summary>
public static class ErasedRows
{
    /// <summary>
    /// <paramref name="rows"/> (indexes into the push) less those whose entity was erased from one of the views they feed at
    /// or after their event time; each drop is counted (<see cref="GranaryMetrics.RecordErasedRowsDropped"/>). A row feeds the
    /// online rows of every view and one offline row shared by them, so one erased view drops it whole. Costs nothing for
    /// views without tombstones.
    /// </summary>
    public static List<int> Unerased(TombstoneSet tombstones, ValidatedPush pushed, List<int> rows)
    {
        var covered = pushed.Plan.Targets.Where(t => tombstones.Covers(t.View.Name)).ToList();
        if (covered.Count == 0) return rows;
        var kept = new List<int>(rows.Count);
        foreach (var r in rows)
        {
            var at = (DateTimeOffset)pushed.Values[r][pushed.Plan.EventTimestampColumn]!;
            var buried = covered.FirstOrDefault(t => tombstones.Buries(t.View.Name, pushed.EntityOf(r, t), at));
            if (buried is null) kept.Add(r);
            else GranaryMetrics.RecordErasedRowsDropped(buried.View.Name, "push", 1);
        }
        return kept;
    }
}
