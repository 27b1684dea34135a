using Granary.FeatureHealth;
using Orleans.Concurrency;

namespace Granary.Grains.Health;

/// <summary>
/// Feature health of one project (key = the project): parity between online and offline, and drift of served values
/// against a training set. Runs checks on demand and on the schedule granary.yaml's <c>health:</c> section sets (Orleans
/// reminders), keeps the last result per view, and publishes it to the health gauges.
/// </summary>
[Alias("granary.feature-health")]
public interface IFeatureHealthGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>Runs a parity check now; the result also becomes the last result of its views.</summary>
    [Alias("parity"), ResponseTimeout("00:30:00")]
    Task<ParityReport> RunParityAsync(ParityRequest request);

    /// <summary>The last parity result of every view checked so far (empty before the first check).</summary>
    [AlwaysInterleave, Alias("last-parity")]
    Task<ParityReport> GetParityAsync();

    /// <summary>Runs a drift check now; the result also becomes the last result of its views.</summary>
    [Alias("drift"), ResponseTimeout("00:30:00")]
    Task<DriftReport> RunDriftAsync(DriftRequest request);

    /// <summary>The last drift result of every view checked so far.</summary>
    [AlwaysInterleave, Alias("last-drift")]
    Task<DriftReport> GetDriftAsync();

    /// <summary>Registers, updates or removes the parity and drift reminders from granary.yaml (<c>health.parity_every</c>, <c>health.drift_every</c>).</summary>
    [Alias("ensure-schedule")]
    Task EnsureScheduleAsync();
}

/// <summary>
/// Writes logged feature vectors of one project (key = the project) to the offline store; a stateless worker, so the
/// gateway's batches spread over activations and silos.
/// </summary>
[Alias("granary.feature-log")]
public interface IFeatureLogGrain : IGrainWithStringKey
{
    /// <summary>What to log: granary.yaml's <c>feature_logging:</c> sample rates and queue limits.</summary>
    [Alias("config")]
    Task<FeatureLogSettings> GetSettingsAsync();

    /// <summary>Appends the rows of <paramref name="batch"/> to the view's log (one all-or-nothing offline append); returns rows written.</summary>
    [Alias("append")]
    Task<long> AppendAsync(FeatureLogBatch batch);
}

/// <summary>The gateway-side settings of feature logging.</summary>
[GenerateSerializer, Immutable, Alias("granary.FeatureLogSettings")]
public sealed record FeatureLogSettings(
    [property: Id(0)] double SampleRate,
    [property: Id(1)] Dictionary<string, double> ServiceRates,
    [property: Id(2)] int QueueCapacity,
    [property: Id(3)] int BatchSize,
    [property: Id(4)] TimeSpan FlushEvery)
{
    /// <summary>Whether anything is logged.</summary>
    public bool Enabled => SampleRate > 0 || ServiceRates.Values.Any(r => r > 0);

    /// <summary>The rate for a read of <paramref name="service"/> (its own when set, else the default).</summary>
    public double RateFor(string? service) => service is not null && ServiceRates.TryGetValue(service, out var rate) ? rate : SampleRate;
}

/// <summary>Logged rows of one feature view: its join keys and features (names), then per row the values as served.</summary>
[GenerateSerializer, Immutable, Alias("granary.FeatureLogBatch")]
public sealed record FeatureLogBatch(
    [property: Id(0)] string FeatureView,
    [property: Id(1)] string[] JoinKeys,
    [property: Id(2)] string[] Features,
    [property: Id(3)] FeatureLogEntry[] Rows);

/// <summary>
/// One logged entity row: when it was served, the feature service (null for feature references), join key values,
/// feature values and statuses (<see cref="Granary.Online.FeatureStatus"/> as bytes).
/// </summary>
[GenerateSerializer, Immutable, Alias("granary.FeatureLogEntry")]
public sealed record FeatureLogEntry(
    [property: Id(0)] DateTimeOffset RequestTime,
    [property: Id(1)] string? FeatureService,
    [property: Id(2)] object?[] JoinKeyValues,
    [property: Id(3)] object?[] Values,
    [property: Id(4)] byte[] Statuses);
