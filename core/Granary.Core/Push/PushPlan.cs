using Granary.Definitions;
using Granary.Offline;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Push;

/// <summary>What a push column is for.</summary>
public enum PushColumnRole
{
    /// <summary>A join key of one or more views (never null).</summary>
    JoinKey,
    /// <summary>The event timestamp (never null).</summary>
    EventTimestamp,
    /// <summary>The created timestamp (null allowed).</summary>
    CreatedTimestamp,
    /// <summary>A feature of one or more views (null allowed).</summary>
    Feature,
}

/// <summary>One column a push batch must carry: its name as the push source names it, its declared type and role.</summary>
/// <param name="Name">The column name in pushed rows (the push source's field mapping applied).</param>
/// <param name="DefinitionName">The name definitions use (join key or feature name; the timestamp field for timestamps).</param>
/// <param name="Type">The declared type every value must have.</param>
/// <param name="Role">What the column is.</param>
/// <param name="DeclaredBy">Where the type comes from, for messages (e.g. <c>feature view 'driver_stats'</c>).</param>
public sealed record PushColumn(string Name, string DefinitionName, ValueType Type, PushColumnRole Role, string DeclaredBy);

/// <summary>How one feature view reading the push source takes a pushed row: indexes into <see cref="PushPlan.Columns"/>.</summary>
/// <param name="View">The view.</param>
/// <param name="JoinKeys">Per join key of the view: its name and column index.</param>
/// <param name="Features">Per feature of the view: its name and column index.</param>
public sealed record PushTarget(FeatureView View, IReadOnlyList<(string Name, int Column)> JoinKeys, IReadOnlyList<(string Name, int Column)> Features);

/// <summary>
/// The schema a push source's rows must have, derived from every feature view that reads it (join keys, timestamp field,
/// created timestamp if any, features; each typed as the definitions declare), and where accepted rows go: each online
/// view, and the push source's batch source offline (named as the batch source names its columns). A push source
/// without its own timestamp_field takes the batch source's timestamp fields and column names.
/// </summary>
public sealed class PushPlan
{
    private PushPlan(RegistrySnapshot snapshot, PushSource source, DataSource batchSource, List<PushColumn> columns, List<PushTarget> targets, int created)
    {
        Project = snapshot.Project;
        RegistryVersion = snapshot.Version;
        Source = source;
        BatchSource = batchSource;
        Columns = columns;
        Targets = targets;
        CreatedTimestampColumn = created;
    }

    /// <summary>The project.</summary>
    public string Project { get; }
    /// <summary>The registry version the plan was made from.</summary>
    public long RegistryVersion { get; }
    /// <summary>The push source.</summary>
    public PushSource Source { get; }
    /// <summary>The batch source offline pushes append to.</summary>
    public DataSource BatchSource { get; }
    /// <summary>The columns every pushed row must carry (index 0 is the event timestamp).</summary>
    public IReadOnlyList<PushColumn> Columns { get; }
    /// <summary>The feature views that read the push source.</summary>
    public IReadOnlyList<PushTarget> Targets { get; }
    /// <summary>Index of the event timestamp column (always 0).</summary>
    public int EventTimestampColumn => 0;
    /// <summary>Index of the created timestamp column; -1 when the push source has none.</summary>
    public int CreatedTimestampColumn { get; }

    /// <summary>The plan for push source <paramref name="pushSource"/> of <paramref name="snapshot"/>.</summary>
    /// <exception cref="PushDefinitionException">The source is unknown or not a push source, no view reads it, or views disagree on a column's type.</exception>
    public static PushPlan For(RegistrySnapshot snapshot, string pushSource)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var found = snapshot.FindDataSource(pushSource);
        if (found is not PushSource source)
        {
            var pushSources = snapshot.DataSources.OfType<PushSource>().Select(s => s.Name).DefaultIfEmpty("(none)");
            throw new PushDefinitionException(found is null
                    ? $"project '{snapshot.Project}' (registry version {snapshot.Version}) has no push source '{pushSource}'; push sources: {string.Join(", ", pushSources)}"
                    : $"source '{pushSource}' of project '{snapshot.Project}' is a {found.GetType().Name.Replace("Source", "", StringComparison.Ordinal).ToLowerInvariant()} source, not a push source; push sources: {string.Join(", ", pushSources)}",
                "push to a source defined with kind: push, or apply the repository that defines it");
        }
        var batch = snapshot.FindDataSource(source.BatchSource)
            ?? throw new PushDefinitionException($"push source '{source.Name}' names batch source '{source.BatchSource}', which is not in the registry",
                "define the batch source and apply");
        // A push source without its own timestamp fields (the usual case, as in Feast) takes its batch source's, and then
        // its rows are named as the batch source names its columns.
        var own = !string.IsNullOrEmpty(source.TimestampField);
        var naming = own ? source : batch;
        var timestampField = own ? source.TimestampField : batch.TimestampField;
        var createdField = own ? source.CreatedTimestampField : batch.CreatedTimestampField;
        if (string.IsNullOrEmpty(timestampField))
            throw new PushDefinitionException($"push source '{source.Name}' and its batch source '{batch.Name}' have no timestamp_field",
                "give the batch source a timestamp_field and apply");
        var views = snapshot.FeatureViews.Where(v => v.Source == source.Name).ToList();
        if (views.Count == 0)
            throw new PushDefinitionException($"no feature view reads push source '{source.Name}', so its rows have no schema",
                "define a feature view with source: " + source.Name + " and apply");

        var columns = new List<PushColumn>();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        int Add(string definitionName, ValueType type, PushColumnRole role, string declaredBy)
        {
            var name = OfflineSources.StoredColumn(naming, definitionName);
            if (byName.TryGetValue(name, out var index))
            {
                var held = columns[index];
                if (held.Type != type || held.Role != role)
                    throw new PushDefinitionException(
                        $"push source '{source.Name}': column '{name}' is {held.Type} ({held.Role}) for {held.DeclaredBy} but {type} ({role}) for {declaredBy}",
                        "give the column one type and role in every view that reads the push source");
                return index;
            }
            columns.Add(new PushColumn(name, definitionName, type, role, declaredBy));
            byName[name] = columns.Count - 1;
            return columns.Count - 1;
        }

        var timestamp = new ValueType(ScalarType.UnixTimestamp);
        Add(timestampField, timestamp, PushColumnRole.EventTimestamp, $"{(own ? "push" : "batch")} source '{naming.Name}'");
        var created = string.IsNullOrEmpty(createdField) ? -1
            : Add(createdField, timestamp, PushColumnRole.CreatedTimestamp, $"{(own ? "push" : "batch")} source '{naming.Name}'");
        var targets = new List<PushTarget>();
        foreach (var view in views)
        {
            var keys = new List<(string, int)>();
            foreach (var entityName in view.Entities)
            {
                var entity = snapshot.FindEntity(entityName)
                    ?? throw new PushDefinitionException($"feature view '{view.Name}' names entity '{entityName}', which is not in the registry");
                keys.Add((entity.JoinKey, Add(entity.JoinKey, entity.ValueType, PushColumnRole.JoinKey, $"entity '{entity.Name}'")));
            }
            if (keys.Count == 0)
                throw new PushDefinitionException($"feature view '{view.Name}' reads push source '{source.Name}' but has no entities; pushes need join keys",
                    "give the view an entity");
            var features = view.Features.Select(f => (f.Name, Add(f.Name, f.Type, PushColumnRole.Feature, $"feature view '{view.Name}'"))).ToList();
            targets.Add(new PushTarget(view, keys, features));
        }
        return new PushPlan(snapshot, source, batch, columns, targets, created);
    }

    /// <summary>
    /// The columns offline appends write, named as the batch source names them: the timestamp field, the created timestamp
    /// when the batch source has one (null when the push source has none), then join keys and features; paired with the
    /// index of the push column each takes its value from (-1: always null).
    /// </summary>
    public IReadOnlyList<(OfflineColumn Column, int From)> OfflineColumns()
    {
        var result = new List<(OfflineColumn, int)>();
        var timestamp = new ValueType(ScalarType.UnixTimestamp);
        result.Add((new OfflineColumn(OfflineSources.StoredColumn(BatchSource, BatchSource.TimestampField), timestamp), EventTimestampColumn));
        if (!string.IsNullOrEmpty(BatchSource.CreatedTimestampField))
            result.Add((new OfflineColumn(OfflineSources.StoredColumn(BatchSource, BatchSource.CreatedTimestampField), timestamp), CreatedTimestampColumn));
        for (var c = 0; c < Columns.Count; c++)
        {
            if (Columns[c].Role is PushColumnRole.JoinKey or PushColumnRole.Feature)
                result.Add((new OfflineColumn(OfflineSources.StoredColumn(BatchSource, Columns[c].DefinitionName), Columns[c].Type), c));
        }
        return result;
    }
}

/// <summary>A push that the definitions make impossible (unknown or non-push source, no view reads it, conflicting types); nothing was written.</summary>
public sealed class PushDefinitionException(string message, string? hint = null) : GranaryException(message, hint);
