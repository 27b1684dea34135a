namespace Granary.FeatureHealth;

/// <summary>What a parity check compares: which views (empty: every online view), how many entities per view, and the sampling seed.</summary>
public sealed record ParityRequest
{
    /// <summary>Default entities sampled per view.</summary>
    public const int DefaultSample = 100;
    /// <summary>Default seed: the same seed picks the same entities while the offline data does not change.</summary>
    public const int DefaultSeed = 12;

    /// <summary>Feature views to check; empty checks every view with <c>online: true</c>.</summary>
    public IReadOnlyList<string> Views { get; init; } = [];
    /// <summary>Entities sampled per view (among those with offline rows); default <see cref="DefaultSample"/>.</summary>
    public int Sample { get; init; } = DefaultSample;
    /// <summary>The sampling seed; default <see cref="DefaultSeed"/>.</summary>
    public int Seed { get; init; } = DefaultSeed;
}

/// <summary>The result of one parity check: one entry per view.</summary>
public sealed record ParityReport(IReadOnlyList<ParityViewResult> Views);

/// <summary>
/// One view's parity: <see cref="Matching"/> of <see cref="Compared"/> values (sampled entities x features) were the same
/// online and offline; <see cref="ParityRate"/> is their ratio (1 when nothing was compared).
/// </summary>
public sealed record ParityViewResult
{
    /// <summary>The feature view.</summary>
    public required string FeatureView { get; init; }
    /// <summary>When the check ran (the "now" of the offline point-in-time read).</summary>
    public required DateTimeOffset CheckedAt { get; init; }
    /// <summary>Entities sampled.</summary>
    public required int Entities { get; init; }
    /// <summary>Values compared (entities x features).</summary>
    public required long Compared { get; init; }
    /// <summary>Values that matched.</summary>
    public required long Matching { get; init; }
    /// <summary>Matching / compared, 0..1; 1 when nothing was compared.</summary>
    public double ParityRate => Compared == 0 ? 1.0 : (double)Matching / Compared;
    /// <summary>The values that did not match (at most <see cref="ParityChecker.MaxMismatchesPerView"/>).</summary>
    public required IReadOnlyList<ParityMismatch> Mismatches { get; init; }
}

/// <summary>
/// One value that differs: the entity (join key -> value as JSON text), the feature, both sides as JSON text (null when
/// the side has no value), the online status, and why it counts as a mismatch.
/// </summary>
public sealed record ParityMismatch(IReadOnlyDictionary<string, string> Entity, string Feature, string? Offline, string? Online, string OnlineStatus, string Reason);
