using Granary.Definitions;

namespace Granary.Offline;

/// <summary>A point-in-time join to run: which entity rows, which features (already planned), and where to write the result.</summary>
public sealed record HistoricalRetrieval
{
    /// <summary>The entity dataframe: join-key columns, an event timestamp column, and any extra columns (passed through).</summary>
    public required EntityDataFrame Entities { get; init; }
    /// <summary>The resolved views and features; see <see cref="HistoricalRetrievalPlanner"/>.</summary>
    public required HistoricalRetrievalPlan Plan { get; init; }
    /// <summary>The output file; <c>.csv</c> writes CSV, anything else Parquet.</summary>
    public required string OutputPath { get; init; }
}

/// <summary>The entity dataframe of a historical retrieval: a Parquet or CSV file, or rows given inline.</summary>
public sealed record EntityDataFrame
{
    /// <summary>A Parquet (<c>.parquet</c>) or CSV (<c>.csv</c>) file; null for inline rows.</summary>
    public string? Path { get; init; }
    /// <summary>Column names of inline rows.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];
    /// <summary>Inline rows, one value per column: long, int, double, float, string, bool, DateTime (unspecified = UTC) or DateTimeOffset, or null.</summary>
    public IReadOnlyList<IReadOnlyList<object?>> Rows { get; init; } = [];

    /// <summary>An entity dataframe read from a Parquet or CSV file.</summary>
    public static EntityDataFrame FromFile(string path) => new() { Path = path };

    /// <summary>An entity dataframe given as inline rows.</summary>
    public static EntityDataFrame FromRows(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<object?>> rows)
    {
        foreach (var row in rows)
        {
            if (row.Count != columns.Count)
                throw new HistoricalRetrievalException($"an inline entity row has {row.Count} values but there are {columns.Count} columns ({string.Join(", ", columns)})");
        }
        return new() { Columns = columns, Rows = rows };
    }
}

/// <summary>Progress of a running retrieval: the phase, DuckDB's percent estimate, and row counts known so far.</summary>
public sealed record HistoricalRetrievalProgress(string Phase, double Percent, long EntityRows, long OutputRows);

/// <summary>The outcome of a retrieval: row counts, the output columns in order, and the elapsed time.</summary>
public sealed record HistoricalRetrievalResult(long EntityRows, long OutputRows, IReadOnlyList<string> Columns, string OutputPath, TimeSpan Elapsed);

/// <summary>The output format of a retrieval, chosen by the output file's extension.</summary>
public enum OutputFormat
{
    /// <summary>Apache Parquet (default).</summary>
    Parquet,
    /// <summary>Comma-separated values with a header row.</summary>
    Csv,
}

/// <summary>Output-file helpers shared by the stores.</summary>
public static class OutputFiles
{
    /// <summary>The format implied by the path's extension: <c>.csv</c> is CSV, everything else Parquet.</summary>
    public static OutputFormat FormatOf(string path) =>
        System.IO.Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase) ? OutputFormat.Csv : OutputFormat.Parquet;
}

/// <summary>Finds the batch source a view reads offline, and names source kinds for messages.</summary>
public static class OfflineSources
{
    /// <summary>The view's source, or for a push source its batch source; throws naming the missing source.</summary>
    public static DataSource ResolveBatchSource(RegistrySnapshot snapshot, FeatureView view)
    {
        var source = snapshot.FindDataSource(view.Source)
            ?? throw new HistoricalRetrievalException($"feature view '{view.Name}' reads source '{view.Source}', which is not in the registry; known sources: {string.Join(", ", snapshot.DataSources.Select(s => s.Name))}");
        if (source is PushSource push)
        {
            source = snapshot.FindDataSource(push.BatchSource)
                ?? throw new HistoricalRetrievalException($"push source '{push.Name}' names batch source '{push.BatchSource}', which is not in the registry");
        }
        if (source is RequestSource)
            throw new HistoricalRetrievalException($"feature view '{view.Name}' reads request source '{source.Name}'; only on-demand feature views may use request sources");
        return source;
    }

    /// <summary>The stored column for a name used in definitions: the field mapping's source column when one maps to it, else the name itself.</summary>
    public static string StoredColumn(DataSource source, string definitionName)
    {
        foreach (var (stored, mapped) in source.FieldMapping)
        {
            if (mapped == definitionName) return stored;
        }
        return definitionName;
    }

    /// <summary>A short name of a source's kind for messages.</summary>
    public static string KindOf(DataSource source) => source switch
    {
        FileSource => "file",
        PostgresSource => "PostgreSQL",
        PushSource => "push",
        RequestSource => "request",
        _ => source.GetType().Name,
    };
}
