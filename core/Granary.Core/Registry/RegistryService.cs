using Granary.Definitions;
using Granary.Repository;
using Granary.Transforms;

namespace Granary.Registry;

/// <summary>
/// The registry's rules, independent of hosting: plan (diff against the current version), apply (compile transforms,
/// refuse breaking changes unless forced, compare-and-set a new version), history, rollback, materialization intervals.
/// The registry grain runs one per project; tests use it directly.
/// </summary>
public sealed class RegistryService(IRegistryStore store, TransformCatalog transforms, TimeProvider time)
{
    /// <summary>The latest version of <paramref name="project"/>, or an empty version 0.</summary>
    public async Task<RegistrySnapshot> GetLatestAsync(string project, CancellationToken cancellationToken = default)
    {
        var version = await store.GetCurrentVersionAsync(project, cancellationToken);
        return version == 0 ? Empty(project) : await GetVersionAsync(project, version, cancellationToken);
    }

    /// <summary>The given version; throws <see cref="RegistryNotFoundException"/> naming the versions that exist.</summary>
    public async Task<RegistrySnapshot> GetVersionAsync(string project, long version, CancellationToken cancellationToken = default)
    {
        // Version 0 is the empty registry only while nothing was applied; once versions exist it names none of them.
        if (version == 0 && await store.GetCurrentVersionAsync(project, cancellationToken) == 0) return Empty(project);
        return await store.GetVersionAsync(project, version, cancellationToken)
            ?? throw new RegistryNotFoundException($"project '{project}' has no registry version {version}; current version is {await store.GetCurrentVersionAsync(project, cancellationToken)}");
    }

    /// <summary>Every version of <paramref name="project"/>, oldest first.</summary>
    public Task<IReadOnlyList<RegistryVersionInfo>> GetHistoryAsync(string project, CancellationToken cancellationToken = default)
        => store.GetHistoryAsync(project, cancellationToken);

    /// <summary>What applying <paramref name="definitions"/> would change.</summary>
    public async Task<RegistryPlan> PlanAsync(string project, RegistrySnapshot definitions, CancellationToken cancellationToken = default)
    {
        var current = await GetLatestAsync(project, cancellationToken);
        return new RegistryPlan(project, current.Version, RegistryDiff.Compute(current, definitions));
    }

    /// <summary>
    /// Makes the request's definitions the new version. No change: no new version. Breaking changes without force:
    /// <see cref="BreakingChangeException"/>. Someone else applied since <see cref="ApplyRequest.ExpectedVersion"/>:
    /// <see cref="RegistryConflictException"/>.
    /// </summary>
    public async Task<ApplyResult> ApplyAsync(string project, ApplyRequest request, CancellationToken cancellationToken = default)
    {
        var current = await GetLatestAsync(project, cancellationToken);
        if (request.ExpectedVersion is { } expected && expected != current.Version)
            throw new RegistryConflictException(project, expected, current.Version);
        var definitions = Normalize(project, request.Definitions);
        var diff = RegistryDiff.Compute(current, definitions);
        if (diff.IsEmpty) return new ApplyResult(current.Version, Created: false, diff);
        if (diff.BreakingChanges.Count > 0 && !request.Force) throw new BreakingChangeException(project, diff.BreakingChanges);
        await CheckDefinitionsAsync(definitions, cancellationToken);
        var stored = await store.AppendVersionAsync(project, current.Version, definitions, Summarize("apply", diff, request.Force), cancellationToken);
        return new ApplyResult(stored.Version, Created: true, diff);
    }

    /// <summary>
    /// Creates a new version whose definitions equal version <paramref name="version"/>'s. Like apply, a rollback that breaks
    /// feature services is refused with <see cref="BreakingChangeException"/> unless <paramref name="force"/>.
    /// </summary>
    public async Task<ApplyResult> RollbackAsync(string project, long version, long? expectedVersion = null, bool force = false, CancellationToken cancellationToken = default)
    {
        var target = await GetVersionAsync(project, version, cancellationToken);
        var current = await GetLatestAsync(project, cancellationToken);
        if (expectedVersion is { } expected && expected != current.Version)
            throw new RegistryConflictException(project, expected, current.Version);
        if (version == current.Version)
            throw new RegistryValidationException($"project '{project}' is already at version {version}; roll back to an earlier version (see 'granary registry history')");
        var diff = RegistryDiff.Compute(current, target);
        if (diff.BreakingChanges.Count > 0 && !force) throw new BreakingChangeException(project, diff.BreakingChanges, "roll back");
        var stored = await store.AppendVersionAsync(project, current.Version, Normalize(project, target), $"rollback to version {version}" + (force && diff.BreakingChanges.Count > 0 ? " (forced)" : ""), cancellationToken);
        return new ApplyResult(stored.Version, Created: true, diff);
    }

    /// <summary>Records a materialized interval of <paramref name="featureView"/>, which must exist in the current version.</summary>
    public async Task RecordMaterializationIntervalAsync(string project, string featureView, DateTimeOffset start, DateTimeOffset end,
        CancellationToken cancellationToken = default)
    {
        if (end < start) throw new ArgumentException($"materialization interval end {end:O} is before its start {start:O}");
        var current = await GetLatestAsync(project, cancellationToken);
        if (current.FindFeatureView(featureView) is null)
            throw new RegistryNotFoundException($"project '{project}' (version {current.Version}) has no feature view '{featureView}'; known: {string.Join(", ", current.FeatureViews.Select(v => v.Name).DefaultIfEmpty("(none)"))}");
        await store.AppendMaterializationIntervalAsync(project, featureView, new MaterializationInterval(start, end, time.GetUtcNow()), cancellationToken);
    }

    /// <summary>The empty registry of a project that has never been applied.</summary>
    public static RegistrySnapshot Empty(string project) => new() { Project = project, Version = 0 };

    private static RegistrySnapshot Normalize(string project, RegistrySnapshot definitions) => definitions with
    {
        Project = project,
        Version = 0,
        CreatedAt = default,
        MaterializationIntervals = new Dictionary<string, IReadOnlyList<MaterializationInterval>>(),
    };

    // The CLI validated the repository already (with file and line); the registry checks the definitions again because
    // other clients can apply too, and the transforms are the code silos will load. Source columns are not re-read here:
    // the data lives where the client is. Compiling through the catalog caches the assembly for this silo's first use.
    private async Task CheckDefinitionsAsync(RegistrySnapshot definitions, CancellationToken cancellationToken)
    {
        try
        {
            await RepositoryValidator.ValidateAsync(FeatureRepository.FromSnapshot(definitions, "apply"), schemas: null, transforms, cancellationToken);
        }
        catch (RepositoryValidationException e)
        {
            throw new RegistryValidationException(e.Message);
        }
    }

    private static string Summarize(string verb, RegistryDiff diff, bool force)
    {
        int Count(ChangeKind k) => diff.Changes.Count(c => c.Change == k);
        var text = $"{verb}: {Count(ChangeKind.Added)} added, {Count(ChangeKind.Changed)} changed, {Count(ChangeKind.Removed)} removed";
        return force && diff.BreakingChanges.Count > 0 ? text + $" (forced past {diff.BreakingChanges.Count} breaking change(s))" : text;
    }
}
