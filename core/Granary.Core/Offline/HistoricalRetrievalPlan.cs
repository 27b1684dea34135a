using Granary.Definitions;

namespace Granary.Offline;

/// <summary>
/// A resolved historical retrieval: every feature view to join (with its batch source, join keys and TTL), every on-demand
/// view to apply afterwards, and the output feature columns in order. Stores turn it into SQL; it holds no SQL itself.
/// </summary>
public sealed record HistoricalRetrievalPlan
{
    /// <summary>The feature views to join, each independently on its own keys.</summary>
    public required IReadOnlyList<ViewRetrieval> Views { get; init; }
    /// <summary>The on-demand views to compute from the joined row.</summary>
    public IReadOnlyList<OnDemandRetrieval> OnDemandViews { get; init; } = [];
    /// <summary>The feature columns of the output, in order (after the entity dataframe's columns).</summary>
    public required IReadOnlyList<string> OutputColumns { get; init; }
    /// <summary>Whether output names are <c>view__feature</c>.</summary>
    public bool FullFeatureNames { get; init; }
}

/// <summary>One feature view's part of a join.</summary>
public sealed record ViewRetrieval
{
    /// <summary>The feature view.</summary>
    public required FeatureView View { get; init; }
    /// <summary>Its batch source.</summary>
    public required DataSource Source { get; init; }
    /// <summary>The name used as prefix in full feature names (alias or view name).</summary>
    public required string NameToUse { get; init; }
    /// <summary>How the source's key columns match entity dataframe columns; empty for entity-less views (join on time only).</summary>
    public required IReadOnlyList<JoinKeyBinding> JoinKeys { get; init; }
    /// <summary>The source's event timestamp column (stored name).</summary>
    public required string TimestampColumn { get; init; }
    /// <summary>The source's created timestamp column (stored name), breaking event-time ties; null when none.</summary>
    public string? CreatedTimestampColumn { get; init; }
    /// <summary>The features read from this view.</summary>
    public required IReadOnlyList<FeatureColumn> Features { get; init; }
    /// <summary>The lookback window; null when the view has no TTL (null or zero).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Throws naming the first column this view reads that the source lacks (with its role), and the source's columns.</summary>
    public void RequireSourceColumns(IReadOnlySet<string> sourceColumns)
    {
        var needed = JoinKeys.Select(k => (k.SourceColumn, $"join key '{k.JoinKey}'"))
            .Append((TimestampColumn, "timestamp field"))
            .Concat(CreatedTimestampColumn is { } c ? [(c, "created timestamp field")] : [])
            .Concat(Features.Select(f => (f.SourceColumn, $"feature '{f.Feature}'")));
        foreach (var (column, role) in needed)
        {
            if (!sourceColumns.Contains(column))
                throw new HistoricalRetrievalException($"source '{Source.Name}' of feature view '{View.Name}' has no column '{column}' ({role}); its columns: {string.Join(", ", sourceColumns)}");
        }
    }
}

/// <summary>A join key: the source's stored column and the entity dataframe column it matches (after the join-key map).</summary>
public sealed record JoinKeyBinding(string JoinKey, string SourceColumn, string EntityColumn);

/// <summary>A feature as joined: its definition name, stored source column, the column name in the joined result, and whether it is output (or only an on-demand input).</summary>
public sealed record FeatureColumn(string Feature, string SourceColumn, string ColumnName, bool IsOutput, Definitions.ValueType Type);

/// <summary>An on-demand view applied to each joined row with its compiled transform.</summary>
public sealed record OnDemandRetrieval
{
    /// <summary>The on-demand view.</summary>
    public required OnDemandFeatureView View { get; init; }
    /// <summary>The compiled transform (the same instance type online uses).</summary>
    public required IOnDemandTransform Transform { get; init; }
    /// <summary>The inputs handed to the transform: name seen by the transform -> joined column (feature) or entity column (request field).</summary>
    public required IReadOnlyList<TransformInput> Inputs { get; init; }
    /// <summary>The requested outputs: <see cref="FeatureColumn.Feature"/> is the name the transform sets, <see cref="FeatureColumn.ColumnName"/> the output column.</summary>
    public required IReadOnlyList<FeatureColumn> Outputs { get; init; }
}

/// <summary>One transform input: the name the transform reads and the column that supplies it; request fields come from the entity dataframe.</summary>
public sealed record TransformInput(string Name, string ColumnName, bool FromEntityDataFrame);
