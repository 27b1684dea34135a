using Granary.Definitions;
using Granary.Runtime;

namespace Granary.Grains.Registry;

/// <summary>
/// The registry of one project (key = project name): versioned definitions, applied by compare-and-set on the version,
/// with plan, history, rollback and materialization intervals. Readers normally go through the silo's registry cache.
/// </summary>
public interface IRegistryGrain : IGrainWithStringKey
{
    /// <summary>What applying <paramref name="definitions"/> would change, against the current version.</summary>
    [ReadOnly]
    Task<RegistryPlan> PlanAsync(RegistrySnapshot definitions);

    /// <summary>Creates a new version (see <see cref="ApplyRequest"/>); throws <see cref="RegistryConflictException"/>, <see cref="BreakingChangeException"/> or <see cref="RegistryValidationException"/>.</summary>
    Task<ApplyResult> ApplyAsync(ApplyRequest apply);

    /// <summary>The current version (version 0, empty, when nothing was applied).</summary>
    [ReadOnly]
    Task<RegistrySnapshot> GetSnapshotAsync();

    /// <summary>A given version; throws <see cref="RegistryNotFoundException"/> when it does not exist.</summary>
    [ReadOnly]
    Task<RegistrySnapshot> GetVersionAsync(long version);

    /// <summary>Every version, oldest first.</summary>
    [ReadOnly]
    Task<IReadOnlyList<RegistryVersionInfo>> GetHistoryAsync();

    /// <summary>Creates a new version equal to <paramref name="version"/>; with <paramref name="expectedVersion"/>, only if the registry is still there.</summary>
    Task<ApplyResult> RollbackAsync(long version, long? expectedVersion);

    /// <summary>Records that <paramref name="featureView"/> was materialized for [<paramref name="start"/>, <paramref name="end"/>].</summary>
    Task RecordMaterializationIntervalAsync(string featureView, DateTimeOffset start, DateTimeOffset end);

    /// <summary>
    /// Long poll: returns the current snapshot as soon as its version is greater than <paramref name="knownVersion"/>,
    /// or null when <paramref name="maxWait"/> (at most 25 s, below the call timeout) passes without one.
    /// Interleaves with everything, so waiting readers never block an apply.
    /// </summary>
    [AlwaysInterleave]
    Task<RegistrySnapshot?> WaitForVersionAfterAsync(long knownVersion, TimeSpan maxWait);
}
