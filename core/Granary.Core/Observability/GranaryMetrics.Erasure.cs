namespace Granary.Observability;

// Erasure's instruments, apart from the rest so the data-protection parts stay in their own files.
public static partial class GranaryMetrics
{
    /// <summary>The <c>path</c> label: where an erased entity's row was dropped (<c>push</c>, <c>materialization</c>, <c>write</c>, <c>feature_log</c>).</summary>
    public const string ErasurePathLabel = "path";

    /// <summary>Counts rows of erased entities that <paramref name="path"/> dropped for <paramref name="view"/>.</summary>
    public static void RecordErasedRowsDropped(string view, string path, long count)
    {
        if (count > 0) ErasureTotals.RowsDropped.Add(count, view, path);
    }

    // A nested holder: created on first use, after the meter (initializers of partial parts run in no defined order).
    private static class ErasureTotals
    {
        public static readonly Totals RowsDropped = new("erased_rows_dropped_total",
            "Rows of erased entities dropped on write (event time at or before the erasure), by feature view and path (push, materialization, write, feature_log).",
            Labels.FeatureView, ErasurePathLabel);
    }
}
