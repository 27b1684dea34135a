using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Granary.FeatureHealth;

/// <summary>
/// The feature-health gauges (parity and drift), recorded on the <c>Granary</c> meter from the last check of each view.
/// Every instrument name lives here, so renaming them for the exporter is a one-file change.
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
    private static readonly ConcurrentDictionary<string, ParityViewResult> Parity = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, DriftViewResult> Drift = new(StringComparer.Ordinal);

    private static readonly Counter<long> LogWritten = Meter.CreateCounter<long>(Names.FeatureLogRowsWritten);
    private static readonly Counter<long> LogDropped = Meter.CreateCounter<long>(Names.FeatureLogRowsDropped);

    /// <summary>Counts rows written to the feature log.</summary>
    public static void FeatureLogWritten(long rows) => LogWritten.Add(rows);

    /// <summary>Counts rows the feature log dropped.</summary>
    public static void FeatureLogDropped(long rows) => LogDropped.Add(rows);

    static HealthMetrics()
    {
        Meter.CreateObservableGauge(Names.ParityRate, () => Parity.Values.Select(p => new Measurement<double>(p.ParityRate, View(p.FeatureView))));
        Meter.CreateObservableGauge(Names.ParityCheckTimestamp, () => Parity.Values.Select(p => new Measurement<double>(p.CheckedAt.ToUnixTimeMilliseconds() / 1000.0, View(p.FeatureView))), "s");
        Meter.CreateObservableGauge(Names.DriftScore, () => Features(f => f.Score));
        Meter.CreateObservableGauge(Names.DriftThreshold, () => Features(f => f.Threshold));
        Meter.CreateObservableGauge(Names.NullRateDifference, () => Features(f => f.NullRateDifference));
        Meter.CreateObservableGauge(Names.DriftCheckTimestamp, () => Drift.Values.Select(d => new Measurement<double>(d.CheckedAt.ToUnixTimeMilliseconds() / 1000.0, View(d.FeatureView))), "s");
    }

    /// <summary>Publishes the last parity result of each view in <paramref name="report"/>.</summary>
    public static void Record(ParityReport report)
    {
        foreach (var view in report.Views) Parity[view.FeatureView] = view;
    }

    /// <summary>Publishes the last drift result of each view in <paramref name="report"/>.</summary>
    public static void Record(DriftReport report)
    {
        foreach (var view in report.Views) Drift[view.FeatureView] = view;
    }

    private static KeyValuePair<string, object?>[] View(string view) => [new("feature_view", view)];

    private static IEnumerable<Measurement<double>> Features(Func<DriftFeatureResult, double?> value)
    {
        foreach (var view in Drift.Values)
            foreach (var feature in view.Features)
                if (value(feature) is { } v && double.IsFinite(v))
                    yield return new Measurement<double>(v, new("feature_view", view.FeatureView), new("feature", feature.Feature));
    }
}
