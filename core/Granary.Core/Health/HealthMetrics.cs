using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Granary.FeatureHealth;

/// <summary>
/// The feature-health gauges (parity and drift), recorded on the <c>Granary</c> meter from the last check of each view.
/// Results are published by an owner (the health grain's activation) and withdrawn with <see cref="Forget"/> when that
/// activation ends, so a process reports only what it currently hosts. Every instrument name lives here, so renaming
/// them for the exporter is a one-file change.
/// </summary>
public static class HealthMetrics
{
    /// <summary>The meter Granary's own instruments use.</summary>
    public const string MeterName = "Granary";

    /// <summary>Instrument names: prometheus-net exports <c>granary_</c> + the name as is (no unit or <c>_total</c> added), so each name carries its suffix.</summary>
    public static class Names
    {
        /// <summary>Share of compared values that matched in the last parity check, 0..1, per feature view.</summary>
        public const string ParityRate = "parity_rate";
        /// <summary>Unix time of the last parity check of a view, seconds.</summary>
        public const string ParityCheckTimestamp = "parity_check_timestamp_seconds";
        /// <summary>Drift score (PSI for numbers, chi-square statistic for categories) per feature.</summary>
        public const string DriftScore = "drift_score";
        /// <summary>The threshold the drift score is compared with, per feature.</summary>
        public const string DriftThreshold = "drift_threshold";
        /// <summary>Served NULL rate minus baseline NULL rate, per feature.</summary>
        public const string NullRateDifference = "null_rate_difference";
        /// <summary>Unix time of the last drift check of a view, seconds.</summary>
        public const string DriftCheckTimestamp = "drift_check_timestamp_seconds";
        /// <summary>Served rows written to the feature log (a counter).</summary>
        public const string FeatureLogRowsWritten = "feature_logging_rows_written_total";
        /// <summary>Served rows the feature log dropped: queue full or write failed (a counter).</summary>
        public const string FeatureLogRowsDropped = "feature_logging_rows_dropped_total";
    }

    private static readonly Meter Meter = new(MeterName);
    // Keyed by owner and view: owners compare by reference, so one activation's Forget never drops another's results.
    private static readonly ConcurrentDictionary<(object Owner, string View), ParityViewResult> Parity = new();
    private static readonly ConcurrentDictionary<(object Owner, string View), DriftViewResult> Drift = new();

    private static readonly Counter<long> LogWritten = Meter.CreateCounter<long>(Names.FeatureLogRowsWritten);
    private static readonly Counter<long> LogDropped = Meter.CreateCounter<long>(Names.FeatureLogRowsDropped);

    /// <summary>Counts rows written to the feature log.</summary>
    public static void FeatureLogWritten(long rows) => LogWritten.Add(rows);

    /// <summary>Counts rows the feature log dropped.</summary>
    public static void FeatureLogDropped(long rows) => LogDropped.Add(rows);

    static HealthMetrics()
    {
        Meter.CreateObservableGauge(Names.ParityRate, () => Newest(Parity, p => p.CheckedAt).Select(p => new Measurement<double>(p.ParityRate, View(p.FeatureView))));
        Meter.CreateObservableGauge(Names.ParityCheckTimestamp, () => Newest(Parity, p => p.CheckedAt).Select(p => new Measurement<double>(p.CheckedAt.ToUnixTimeMilliseconds() / 1000.0, View(p.FeatureView))), "s");
        Meter.CreateObservableGauge(Names.DriftScore, () => Features(f => f.Score));
        Meter.CreateObservableGauge(Names.DriftThreshold, () => Features(f => f.Threshold));
        Meter.CreateObservableGauge(Names.NullRateDifference, () => Features(f => f.NullRateDifference));
        Meter.CreateObservableGauge(Names.DriftCheckTimestamp, () => Newest(Drift, d => d.CheckedAt).Select(d => new Measurement<double>(d.CheckedAt.ToUnixTimeMilliseconds() / 1000.0, View(d.FeatureView))), "s");
    }

    /// <summary>Publishes, for <paramref name="owner"/>, the last parity result of each view in <paramref name="report"/>.</summary>
    public static void Record(object owner, ParityReport report)
    {
        foreach (var view in report.Views) Parity[(owner, view.FeatureView)] = view;
    }

    /// <summary>Publishes, for <paramref name="owner"/>, the last drift result of each view in <paramref name="report"/>.</summary>
    public static void Record(object owner, DriftReport report)
    {
        foreach (var view in report.Views) Drift[(owner, view.FeatureView)] = view;
    }

    /// <summary>Withdraws every result <paramref name="owner"/> published: its gauges stop reporting in this process.</summary>
    public static void Forget(object owner)
    {
        foreach (var key in Parity.Keys.Where(k => ReferenceEquals(k.Owner, owner))) Parity.TryRemove(key, out _);
        foreach (var key in Drift.Keys.Where(k => ReferenceEquals(k.Owner, owner))) Drift.TryRemove(key, out _);
    }

    // Two owners in one process (several embedded silos, e.g. in tests) may publish the same view: report the newer check once.
    private static IEnumerable<T> Newest<T>(ConcurrentDictionary<(object Owner, string View), T> results, Func<T, DateTimeOffset> checkedAt)
        => results.GroupBy(r => r.Key.View, StringComparer.Ordinal).Select(g => g.Select(r => r.Value).MaxBy(checkedAt)!);

    private static KeyValuePair<string, object?>[] View(string view) => [new("feature_view", view)];

    private static IEnumerable<Measurement<double>> Features(Func<DriftFeatureResult, double?> value)
    {
        foreach (var view in Newest(Drift, d => d.CheckedAt))
            foreach (var feature in view.Features)
                if (value(feature) is { } v && double.IsFinite(v))
                    yield return new Measurement<double>(v, new("feature_view", view.FeatureView), new("feature", feature.Feature));
    }
}
