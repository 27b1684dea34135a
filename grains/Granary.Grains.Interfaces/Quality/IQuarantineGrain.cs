using Granary.Quality;

namespace Granary.Grains.Quality;

/// <summary>
/// The quarantine of one project (key: the project): rows set aside by quarantine data rules, listed, shown, released
/// (written through the normal write path, past the rule that held them) or dropped.
/// </summary>
[Alias("granary.quarantine")]
public interface IQuarantineGrain : IGrainWithStringKey
{
    /// <summary>The entries, oldest first, of one view or all, at most <paramref name="limit"/>.</summary>
    [Alias("list")]
    Task<IReadOnlyList<QuarantinedRow>> ListAsync(string? featureView, int limit);

    /// <summary>How many entries there are, per view and rule.</summary>
    [Alias("counts")]
    Task<QuarantineCount[]> CountAsync();

    /// <summary>One entry; null when the project has none with that id.</summary>
    [Alias("get")]
    Task<QuarantinedRow?> GetAsync(long id);

    /// <summary>
    /// Writes entry <paramref name="id"/> through the write path it came from, past the rule that held it (a pushed row is
    /// pushed again, online and offline, without its event id; a materialization row is written online), then deletes it.
    /// Other rules still apply: a row breaking another quarantine rule is quarantined again under it.
    /// </summary>
    /// <exception cref="QuarantineEntryNotFoundException">No entry with that id.</exception>
    [Alias("release")]
    Task<QuarantineRelease> ReleaseAsync(long id);

    /// <summary>Deletes entry <paramref name="id"/>; false when there was none.</summary>
    [Alias("drop")]
    Task<bool> DropAsync(long id);
}

/// <summary>How many entries a view's rule holds.</summary>
[GenerateSerializer, Immutable, Alias("granary.QuarantineCount")]
public sealed record QuarantineCount([property: Id(0)] string FeatureView, [property: Id(1)] string Rule, [property: Id(2)] long Count);

/// <summary>What releasing an entry did.</summary>
/// <param name="Id">The entry.</param>
/// <param name="FeatureView">Its view.</param>
/// <param name="Rule">The rule that held it.</param>
/// <param name="OnlineRowsApplied">Online rows written (0 when the store holds a newer row of the entity).</param>
/// <param name="OfflineRowsAppended">Rows appended to the offline batch source (pushed rows only).</param>
/// <param name="QuarantinedAgain">Whether another quarantine rule held it again (as a new entry).</param>
[GenerateSerializer, Immutable, Alias("granary.QuarantineRelease")]
public sealed record QuarantineRelease(
    [property: Id(0)] long Id, [property: Id(1)] string FeatureView, [property: Id(2)] string Rule,
    [property: Id(3)] int OnlineRowsApplied, [property: Id(4)] long OfflineRowsAppended, [property: Id(5)] bool QuarantinedAgain);

/// <summary>No quarantine entry has the id asked for.</summary>
public sealed class QuarantineEntryNotFoundException(string message) : GranaryException(message, "list the entries with granary quarantine list");
