using Granary.Definitions;

namespace Granary.Quality;

/// <summary>
/// A row set aside by a <c>quarantine</c> rule: not served, not written offline, kept with the view, the rule and when, until
/// released (written through the normal write path, past the rule that held it) or dropped.
/// </summary>
/// <param name="Id">The quarantine entry's id (assigned by the store).</param>
/// <param name="Project">The project.</param>
/// <param name="FeatureView">The view whose rule held the row.</param>
/// <param name="Rule">The rule that held it (<c>&lt;feature&gt;.&lt;check&gt;</c>, e.g. <c>amount.min</c>), the first quarantine rule it broke.</param>
/// <param name="Source">Where the row came from: the push source's name, or <c>materialization</c>.</param>
/// <param name="QuarantinedAt">When it was set aside.</param>
/// <param name="Row">The row as JSON: column name to value (the push source's columns, or the view's join keys, timestamps and features).</param>
public sealed record QuarantinedRow(long Id, string Project, string FeatureView, string Rule, string Source, DateTimeOffset QuarantinedAt, string Row);

/// <summary>A row about to be quarantined (the store assigns the id).</summary>
/// <param name="FeatureView">The view whose rule held the row.</param>
/// <param name="Rule">The rule (<c>&lt;feature&gt;.&lt;check&gt;</c>).</param>
/// <param name="Source">The push source's name, or <c>materialization</c>.</param>
/// <param name="Row">The row as JSON.</param>
public sealed record QuarantineEntry(string FeatureView, string Rule, string Source, string Row);

/// <summary>The quarantine: in the registry database (SQLite embedded, PostgreSQL in a cluster), shared by every silo and CLI.</summary>
public interface IQuarantineStore
{
    /// <summary>Creates the table when missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds <paramref name="entries"/> of <paramref name="project"/>, stamped <paramref name="at"/>, in one transaction.</summary>
    Task AddQuarantinedAsync(string project, IReadOnlyList<QuarantineEntry> entries, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>The project's entries, oldest first, optionally of one view, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<QuarantinedRow>> ListQuarantinedAsync(string project, string? featureView, int limit, CancellationToken cancellationToken = default);

    /// <summary>How many entries the project holds, per view and rule.</summary>
    Task<IReadOnlyList<(string FeatureView, string Rule, long Count)>> CountQuarantinedAsync(string project, CancellationToken cancellationToken = default);

    /// <summary>One entry; null when there is none with that id in the project.</summary>
    Task<QuarantinedRow?> GetQuarantinedAsync(string project, long id, CancellationToken cancellationToken = default);

    /// <summary>Deletes one entry; false when there was none.</summary>
    Task<bool> DeleteQuarantinedAsync(string project, long id, CancellationToken cancellationToken = default);
}

/// <summary>The last quality-gate check of a view's materialization: what was read, what the rules did, and whether it passed.</summary>
/// <param name="FeatureView">The view.</param>
/// <param name="Passed">Whether the run was let through.</param>
/// <param name="RowsRead">Rows the run read (the latest row per entity in its window).</param>
/// <param name="RowsRejected">Rows breaking a reject rule (dropped).</param>
/// <param name="RowsQuarantined">Rows breaking a quarantine rule (set aside).</param>
/// <param name="RowsWarned">Rows breaking only warn rules (written, counted).</param>
/// <param name="Completeness">The lowest share of non-null values among the features, over the rows the run would write; null when no row would be written.</param>
/// <param name="LeastCompleteFeature">The feature with that share.</param>
/// <param name="Reason">Why it failed; null when it passed.</param>
/// <param name="CheckedAt">When.</param>
public sealed record QualityGateResult(
    string FeatureView, bool Passed, long RowsRead, long RowsRejected, long RowsQuarantined, long RowsWarned,
    double? Completeness, string? LeastCompleteFeature, string? Reason, DateTimeOffset CheckedAt);
