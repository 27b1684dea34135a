namespace Granary.FeatureHealth;

/// <summary>The result of one drift check: one entry per view whose served values were logged in the window.</summary>
public sealed record DriftReport(IReadOnlyList<DriftViewResult> Views)
{
    /// <summary>Whether any feature of any view drifted.</summary>
    public bool Drifted => Views.Any(v => v.Features.Any(f => f.Drifted));
}

/// <summary>One view's drift: per feature, the statistics of served values (the window) against the baseline.</summary>
public sealed record DriftViewResult
{
    /// <summary>The feature view.</summary>
    public required string FeatureView { get; init; }
    /// <summary>When the check ran (the window's end).</summary>
    public required DateTimeOffset CheckedAt { get; init; }
    /// <summary>Served rows logged in the window.</summary>
    public required long ServedRows { get; init; }
    /// <summary>Rows of the baseline.</summary>
    public required long BaselineRows { get; init; }
    /// <summary>The features compared.</summary>
    public required IReadOnlyList<DriftFeatureResult> Features { get; init; }
}

/// <summary>How a feature is compared: numbers by PSI and Kolmogorov-Smirnov, categories (strings, booleans) by chi-square.</summary>
public enum DriftKind
{
    /// <summary>Int32, Int64, Float32, Float64.</summary>
    Numeric,
    /// <summary>String and Bool.</summary>
    Categorical,
}

/// <summary>
/// One feature's drift statistics; those that do not apply to its kind are null. <see cref="Score"/> is the figure the
/// drift gauge shows (PSI for numbers, the chi-square statistic for categories) and <see cref="Threshold"/> its limit.
/// </summary>
public sealed record DriftFeatureResult
{
    /// <summary>The feature.</summary>
    public required string Feature { get; init; }
    /// <summary>Numeric or categorical.</summary>
    public required DriftKind Kind { get; init; }
    /// <summary>Non-null served values compared.</summary>
    public required long ServedValues { get; init; }
    /// <summary>Non-null baseline values compared.</summary>
    public required long BaselineValues { get; init; }
    /// <summary>Population stability index over bins from the baseline's deciles (numbers).</summary>
    public double? Psi { get; init; }
    /// <summary>Kolmogorov-Smirnov statistic D, the largest distance between the two empirical CDFs (numbers).</summary>
    public double? Ks { get; init; }
    /// <summary>The two-sample KS test's asymptotic p-value (numbers).</summary>
    public double? KsP { get; init; }
    /// <summary>The chi-square statistic of served category counts against the baseline's shares (categories).</summary>
    public double? ChiSquare { get; init; }
    /// <summary>Its p-value (categories).</summary>
    public double? ChiSquareP { get; init; }
    /// <summary>Served NULL rate minus baseline NULL rate (-1..1).</summary>
    public required double NullRateDifference { get; init; }
    /// <summary>The gauge's score: PSI (numbers) or chi-square statistic (categories).</summary>
    public double? Score => Kind == DriftKind.Numeric ? Psi : ChiSquare;
    /// <summary>The score's threshold: the PSI threshold, or the chi-square critical value at the configured p.</summary>
    public double? Threshold { get; init; }
    /// <summary>Which tests flagged drift (e.g. "psi 0.41 > 0.2"); empty when none did.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }
    /// <summary>Whether any test flagged drift.</summary>
    public bool Drifted => Reasons.Count > 0;
}

/// <summary>What a drift check compares: the baseline training set, the window of served values, the views, the thresholds.</summary>
public sealed record DriftRequest
{
    /// <summary>The training set (Parquet or CSV; relative paths against the repository), e.g. from <c>get-historical-features</c>.</summary>
    public required string Baseline { get; init; }
    /// <summary>How far back served values are read (window end: now); default 24 h.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(24);
    /// <summary>Feature views to check; empty: every view with logged values whose features the baseline has.</summary>
    public IReadOnlyList<string> Views { get; init; } = [];
    /// <summary>The thresholds; null uses granary.yaml's (<c>health:</c>), else the defaults.</summary>
    public Repository.DriftThresholds? Thresholds { get; init; }
    /// <summary>Whether the baseline came from a request (the gateway's <c>/drift</c>): then it must lie inside the silo's request-files folder.</summary>
    public bool FromRequest { get; init; }
}
