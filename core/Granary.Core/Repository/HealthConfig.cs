using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Granary.Repository;

/// <summary>The <c>health:</c> section of granary.yaml: scheduled parity and drift checks, and drift thresholds.</summary>
public sealed record HealthConfig
{
    /// <summary>Default PSI above which a numeric feature drifted (0.2: the usual "significant shift" limit).</summary>
    public const double DefaultPsiThreshold = 0.2;
    /// <summary>Default KS and chi-square p-value below which a feature drifted.</summary>
    public const double DefaultPValue = 0.01;
    /// <summary>Default NULL-rate difference (served - baseline, absolute) above which a feature drifted.</summary>
    public const double DefaultNullRateThreshold = 0.01;

    /// <summary><c>parity_every</c>: how often the scheduled parity check runs (an Orleans reminder); null: not scheduled.</summary>
    public TimeSpan? ParityEvery { get; init; }
    /// <summary><c>parity_sample</c>: entities per view in the scheduled check; default 100.</summary>
    public int ParitySample { get; init; } = 100;
    /// <summary><c>parity_views</c>: views the scheduled check covers; empty: every online view.</summary>
    public IReadOnlyList<string> ParityViews { get; init; } = [];
    /// <summary><c>drift_every</c>: how often the scheduled drift check runs; null: not scheduled (needs <see cref="DriftBaseline"/>).</summary>
    public TimeSpan? DriftEvery { get; init; }
    /// <summary><c>drift_baseline</c>: the training set (Parquet or CSV, relative to the repository) drift compares with.</summary>
    public string? DriftBaseline { get; init; }
    /// <summary><c>drift_window</c>: how far back served values are read; default 24 h.</summary>
    public TimeSpan DriftWindow { get; init; } = TimeSpan.FromHours(24);
    /// <summary><c>drift_views</c>: views the scheduled drift check covers; empty: every view with logged values.</summary>
    public IReadOnlyList<string> DriftViews { get; init; } = [];
    /// <summary>The drift thresholds (<c>psi_threshold</c>, <c>ks_p_value</c>, <c>ks_d_threshold</c>, <c>chi_square_p_value</c>, <c>null_rate_threshold</c>).</summary>
    public DriftThresholds Thresholds { get; init; } = new();
}

/// <summary>When a feature counts as drifted; every limit is a granary.yaml key under <c>health:</c>.</summary>
public sealed record DriftThresholds
{
    /// <summary><c>psi_threshold</c>: PSI above this is drift; default 0.2.</summary>
    public double Psi { get; init; } = HealthConfig.DefaultPsiThreshold;
    /// <summary><c>ks_p_value</c>: a KS p-value below this is drift; default 0.01.</summary>
    public double KsPValue { get; init; } = HealthConfig.DefaultPValue;
    /// <summary><c>ks_d_threshold</c>: a KS statistic D above this is drift too; null (default) uses the p-value only.</summary>
    public double? KsD { get; init; }
    /// <summary><c>chi_square_p_value</c>: a chi-square p-value below this is drift; default 0.01.</summary>
    public double ChiSquarePValue { get; init; } = HealthConfig.DefaultPValue;
    /// <summary><c>null_rate_threshold</c>: an absolute NULL-rate difference above this is drift; default 0.01.</summary>
    public double NullRate { get; init; } = HealthConfig.DefaultNullRateThreshold;
}

/// <summary>
/// The <c>feature_logging:</c> section of granary.yaml (as Feast's feature logging): the gateway logs a sample of the
/// feature vectors it serves to the offline store.
/// </summary>
public sealed record FeatureLoggingConfig
{
    /// <summary>Default folder of the logs, relative to the repository.</summary>
    public const string DefaultPath = "data/feature_logs";

    /// <summary><c>sample_rate</c>: share of served entity rows logged, 0..1; default 0 (off).</summary>
    public double SampleRate { get; init; }
    /// <summary><c>services</c>: per feature service, its own sample rate (overrides <see cref="SampleRate"/> for reads of that service).</summary>
    public IReadOnlyDictionary<string, double> Services { get; init; } = new Dictionary<string, double>();
    /// <summary><c>path</c>: the folder of the logs (one Parquet folder per feature view); default <see cref="DefaultPath"/>.</summary>
    public string Path { get; init; } = DefaultPath;
    /// <summary><c>queue_capacity</c>: logged rows waiting at most; more are dropped (and counted), never slowing a request. Default 10,000.</summary>
    public int QueueCapacity { get; init; } = 10_000;
    /// <summary><c>batch_size</c>: rows per offline append at most; default 1,000.</summary>
    public int BatchSize { get; init; } = 1_000;
    /// <summary><c>flush_every</c>: the longest a logged row waits before its batch is written; default 5 s.</summary>
    public TimeSpan FlushEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether anything is logged at all.</summary>
    public bool Enabled => SampleRate > 0 || Services.Values.Any(r => r > 0);
}

/// <summary>Reads the <c>health:</c> and <c>feature_logging:</c> sections.</summary>
internal static class HealthConfigReader
{
    public static HealthConfig ReadHealth(YamlObject top)
    {
        if (top.Node("health") is not YamlMappingNode node)
        {
            if (top.Node("health") is { } other) top.Error("health", "'health' must be a mapping (e.g. parity_every: 1h, parity_sample: 100)");
            return new HealthConfig();
        }
        var o = new YamlObject(top.File, node, "health", top.Errors);
        o.RejectUnknownKeys("parity_every", "parity_sample", "parity_views", "drift_every", "drift_baseline", "drift_window", "drift_views",
            "psi_threshold", "ks_p_value", "ks_d_threshold", "chi_square_p_value", "null_rate_threshold");
        var parityEvery = Schedule(o, "parity_every");
        var driftEvery = Schedule(o, "drift_every");
        var baseline = o.String("drift_baseline");
        if (driftEvery is not null && baseline is null)
            o.Error("drift_every", "health.drift_every needs health.drift_baseline (the training set to compare with); add it or remove drift_every");
        var window = o.Duration("drift_window");
        if (window is { } w && w <= TimeSpan.Zero) o.Error("drift_window", "health.drift_window must be positive, e.g. 24h");
        var sample = Number(o, "parity_sample", 1, 1_000_000, "a whole number of entities between 1 and 1000000");
        var defaults = new DriftThresholds();
        var thresholds = new DriftThresholds
        {
            Psi = Number(o, "psi_threshold", 0, 100, "a number above 0, e.g. 0.2") ?? defaults.Psi,
            KsPValue = Probability(o, "ks_p_value") ?? defaults.KsPValue,
            KsD = Number(o, "ks_d_threshold", 0, 1, "a number between 0 and 1, e.g. 0.1"),
            ChiSquarePValue = Probability(o, "chi_square_p_value") ?? defaults.ChiSquarePValue,
            NullRate = Number(o, "null_rate_threshold", 0, 1, "a number between 0 and 1, e.g. 0.01") ?? defaults.NullRate,
        };
        return new HealthConfig
        {
            ParityEvery = parityEvery, ParitySample = sample is { } s && s == Math.Floor(s) ? (int)s : 100,
            ParityViews = o.Strings("parity_views").Select(v => v.Value).ToList(),
            DriftEvery = driftEvery, DriftBaseline = baseline, DriftWindow = window is { } dw && dw > TimeSpan.Zero ? dw : TimeSpan.FromHours(24),
            DriftViews = o.Strings("drift_views").Select(v => v.Value).ToList(), Thresholds = thresholds,
        };
    }

    public static FeatureLoggingConfig ReadFeatureLogging(YamlObject top)
    {
        if (top.Node("feature_logging") is not YamlMappingNode node)
        {
            if (top.Node("feature_logging") is { } other) top.Error("feature_logging", "'feature_logging' must be a mapping (e.g. sample_rate: 0.1)");
            return new FeatureLoggingConfig();
        }
        var o = new YamlObject(top.File, node, "feature_logging", top.Errors);
        o.RejectUnknownKeys("sample_rate", "services", "path", "queue_capacity", "batch_size", "flush_every");
        var services = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (service, text) in o.Map("services"))
        {
            if (TryRate(text, out var rate)) services[service] = rate;
            else o.Error("services", $"feature_logging.services.{service}: sample rate '{text}' must be a number between 0 and 1, e.g. 0.1");
        }
        var defaults = new FeatureLoggingConfig();
        var flush = o.Duration("flush_every");
        if (flush is { } f && f <= TimeSpan.Zero) o.Error("flush_every", "feature_logging.flush_every must be positive, e.g. 5s");
        return new FeatureLoggingConfig
        {
            SampleRate = Probability(o, "sample_rate") ?? 0,
            Services = services,
            Path = o.String("path") ?? defaults.Path,
            QueueCapacity = (int)(Number(o, "queue_capacity", 1, 10_000_000, "a whole number of rows between 1 and 10000000") ?? defaults.QueueCapacity),
            BatchSize = (int)(Number(o, "batch_size", 1, 1_000_000, "a whole number of rows between 1 and 1000000") ?? defaults.BatchSize),
            FlushEvery = flush is { } fe && fe > TimeSpan.Zero ? fe : defaults.FlushEvery,
        };
    }

    private static TimeSpan? Schedule(YamlObject o, string key)
    {
        var every = o.Duration(key);
        if (every is { } e && e < TimeSpan.FromMinutes(1))
        {
            o.Error(key, $"health.{key} {Definitions.DurationText.Format(e)} is shorter than a minute, the shortest schedule Orleans reminders run; use 1m or more");
            return null;
        }
        return every;
    }

    private static double? Probability(YamlObject o, string key) => Number(o, key, 0, 1, "a number between 0 and 1, e.g. 0.01");

    private static double? Number(YamlObject o, string key, double min, double max, string expected)
    {
        var text = o.String(key);
        if (text is null) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max)
            return value;
        o.Error(key, $"{o.What}.{key} '{text}' must be {expected}");
        return null;
    }

    private static bool TryRate(string text, out double rate)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) && rate is >= 0 and <= 1;
}
