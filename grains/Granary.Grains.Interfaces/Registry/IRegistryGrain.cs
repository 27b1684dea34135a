using Granary.Definitions;
using Granary.Registry;
using Orleans.Concurrency;

namespace Granary.Grains.Registry;

/// <summary>
/// The registry of one project (key = project name): versioned definitions, applied by compare-and-set on the version,
/// with plan, history, rollback and materialization intervals. Readers normally go through the silo's registry cache.
/// </summary>
[Alias("granary.registry")]
public interface IRegistryGrain : IGrainWithStringKey
{
    /// <summary>What applying <paramref name="definitions"/> would change, against the current version.</summary>
    [ReadOnly, Alias("plan")]
    Task<RegistryPlan> PlanAsync(RegistrySnapshot definitions);

    /// <summary>Creates a new version (see <see cref="ApplyRequest"/>); throws <see cref="RegistryConflictException"/>, <see cref="BreakingChangeException"/> or <see cref="RegistryValidationException"/>.</summary>
    [Alias("apply")]
    Task<ApplyResult> ApplyAsync(ApplyRequest apply);

    /// <summary>The current version (version 0, empty, when nothing was applied).</summary>
    [ReadOnly, Alias("snapshot")]
    Task<RegistrySnapshot> GetSnapshotAsync();

    /// <summary>A given version; throws <see cref="RegistryNotFoundException"/> when it does not exist.</summary>
    [ReadOnly, Alias("version")]
    Task<RegistrySnapshot> GetVersionAsync(long version);

    /// <summary>Every version, oldest first.</summary>
    [ReadOnly, Alias("history")]
    Task<IReadOnlyList<RegistryVersionInfo>> GetHistoryAsync();

    /// <summary>
    /// Creates a new version equal to <paramref name="version"/>; with <paramref name="expectedVersion"/>, only if the registry
    /// is still there. Refused with <see cref="BreakingChangeException"/> when it breaks feature services, unless <paramref name="force"/>.
    /// </summary>
    [Alias("rollback")]
    Task<ApplyResult> RollbackAsync(long version, long? expectedVersion, bool force);

    /// <summary>Records that <paramref name="featureView"/> was materialized for [<paramref name="start"/>, <paramref name="end"/>].</summary>
    [Alias("record-materialization")]
    Task RecordMaterializationIntervalAsync(string featureView, DateTimeOffset start, DateTimeOffset end);

    /// <summary>
    /// Long poll: returns the current snapshot as soon as its version is greater than <paramref name="knownVersion"/>,
    /// or null when <paramref name="maxWait"/> (at most 25 s) passes without one. Its own call timeout (30 s) lets it
    /// outlive a client's short default; callers bound each poll themselves, so a dead silo costs them one poll, not 30 s.
    /// Interleaves with everything, so waiting readers never block an apply.
    /// </summary>
    [AlwaysInterleave, Alias("wait-for-version"), ResponseTimeout("00:00:30")]
    Task<RegistrySnapshot?> WaitForVersionAfterAsync(long knownVersion, TimeSpan maxWait);
}
