using Granary;
using Granary.Definitions;

namespace Granary.Registry;

/// <summary>What an apply would change, computed against <see cref="BaseVersion"/>.</summary>
/// <param name="Project">The project.</param>
/// <param name="BaseVersion">The registry version the diff is against; pass it to apply so a concurrent apply is detected.</param>
/// <param name="Diff">Added, changed and removed objects, and breaking changes.</param>
public sealed record RegistryPlan(string Project, long BaseVersion, RegistryDiff Diff);

/// <summary>A request to make <see cref="Definitions"/> the project's new version.</summary>
/// <param name="Definitions">The full set of definitions (with transform sources); project, version and times are ignored.</param>
/// <param name="ExpectedVersion">The version the caller planned against; null applies on top of whatever is current.</param>
/// <param name="Force">Apply even when the change breaks a feature service.</param>
public sealed record ApplyRequest(RegistrySnapshot Definitions, long? ExpectedVersion, bool Force);

/// <summary>The outcome of an apply or rollback.</summary>
/// <param name="Version">The registry version after the call (unchanged when there was nothing to apply).</param>
/// <param name="Created">Whether a new version was created.</param>
/// <param name="Diff">What changed relative to the previous version.</param>
public sealed record ApplyResult(long Version, bool Created, RegistryDiff Diff);

/// <summary>Another apply or rollback created a newer version first; re-plan and apply again.</summary>
public sealed class RegistryConflictException : GranaryException
{
    /// <summary>A conflict on <paramref name="project"/>: the caller expected <paramref name="expectedVersion"/>, the registry is at <paramref name="currentVersion"/>.</summary>
    public RegistryConflictException(string project, long expectedVersion, long currentVersion)
        : base($"registry of project '{project}' is at version {currentVersion}, not {expectedVersion}: another apply or rollback won; run plan again and re-apply")
    {
        Keep(nameof(Project), project);
        Keep(nameof(ExpectedVersion), expectedVersion);
        Keep(nameof(CurrentVersion), currentVersion);
    }

    /// <summary>The project.</summary>
    public string Project => Kept(nameof(Project), "");
    /// <summary>The version the caller based its change on.</summary>
    public long ExpectedVersion => Kept(nameof(ExpectedVersion), 0L);
    /// <summary>The version found in the registry.</summary>
    public long CurrentVersion => Kept(nameof(CurrentVersion), 0L);
}

/// <summary>An apply would break feature services; it is refused unless forced.</summary>
public sealed class BreakingChangeException : GranaryException
{
    /// <summary>Refuses an apply (or another <paramref name="action"/>, e.g. "roll back") to <paramref name="project"/> because of <paramref name="changes"/>.</summary>
    public BreakingChangeException(string project, IReadOnlyList<BreakingChange> changes, string action = "apply")
        : base($"{action} to project '{project}' refused: it breaks feature services:{Environment.NewLine}" +
               string.Join(Environment.NewLine, changes.Select(c => "  " + c)) +
               $"{Environment.NewLine}{char.ToUpperInvariant(action[0])}{action[1..]} with --force to accept the break, or keep the features.",
               $"pass --force to {action} anyway")
    {
        Keep(nameof(Project), project);
        Keep(nameof(Changes), changes.ToArray());
    }

    /// <summary>The project.</summary>
    public string Project => Kept(nameof(Project), "");
    /// <summary>Each broken use.</summary>
    public IReadOnlyList<BreakingChange> Changes => Kept<BreakingChange[]>(nameof(Changes), []);
}

/// <summary>The requested registry version or object does not exist.</summary>
public sealed class RegistryNotFoundException(string message) : GranaryException(message);

/// <summary>The definitions are not valid (e.g. a transform does not compile, or an on-demand view's transform is missing).</summary>
public sealed class RegistryValidationException(string message) : GranaryException(message);
