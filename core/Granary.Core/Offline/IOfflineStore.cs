using Granary;
using Granary.Definitions;

namespace Granary.Offline;

/// <summary>
/// Reads feature history from batch sources: their schemas, point-in-time joins for training data, and the latest row
/// per entity key for materialization. Implemented by stores under <c>stores/</c> (DuckDB over Parquet, PostgreSQL).
/// </summary>
public interface IOfflineStore
{
    /// <summary>Whether this store reads <paramref name="source"/> (e.g. DuckDB reads file sources, PostgreSQL reads PostgreSQL sources).</summary>
    bool CanRead(DataSource source);

    /// <summary>The columns of a batch source as stored (before field mapping), for validating definitions at apply.</summary>
    Task<IReadOnlyList<SourceColumn>> GetSourceSchemaAsync(DataSource source, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a point-in-time join of the entity dataframe against the planned views inside the engine and writes the
    /// result to <see cref="HistoricalRetrieval.OutputPath"/> (Parquet or CSV), reporting progress as it goes.
    /// Throws <see cref="HistoricalRetrievalException"/> for bad input (missing timestamp or entity column, name collisions).
    /// </summary>
    Task<HistoricalRetrievalResult> RunPointInTimeJoinAsync(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams, for every entity key of the view, the latest row with <c>start &lt;= event_ts &lt;= end</c> (ties broken by the
    /// latest created timestamp). Rows are produced as the engine reads them; nothing is buffered in full.
    /// </summary>
    IAsyncEnumerable<LatestFeatureRow> ReadLatestRowsAsync(LatestRowsQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends rows to a batch source (pushes with <c>to: offline</c>), all or nothing: a reader sees either none or all of
    /// them, and historical retrieval and materialization read them from then on. Returns the rows appended (fewer than
    /// given when <see cref="OfflineRowBatch.SkipStoredCopies"/> left some out).
    /// </summary>
    /// <exception cref="OfflineAppendException">The source cannot take appends (e.g. a query source) or lacks a column.</exception>
    Task<long> AppendRowsAsync(DataSource source, OfflineRowBatch rows, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes, from a source Granary writes (a push's batch source, a feature log), every row whose columns
    /// <paramref name="key"/> names hold exactly its values (stored column names, typed values); all or nothing, as an
    /// append. Returns the rows deleted; 0 when the source holds no file or row yet.
    /// </summary>
    /// <exception cref="OfflineAppendException">The source cannot be changed by this store (e.g. a query source).</exception>
    Task<long> DeleteRowsAsync(DataSource source, IReadOnlyList<KeyValuePair<string, object>> key, CancellationToken cancellationToken = default);
}

/// <summary>A column of a batch source: its name, the engine's type name, and the feature value type it maps to (null when none does).</summary>
public sealed record SourceColumn(string Name, string EngineType, Definitions.ValueType? ValueType);

/// <summary>What to read for materialization: one view's join keys and features from its batch source, within [Start, End].</summary>
public sealed record LatestRowsQuery
{
    /// <summary>The view being materialized.</summary>
    public required FeatureView View { get; init; }
    /// <summary>The view's batch source (for a push source, its batch source); see <see cref="OfflineSources.ResolveBatchSource"/>.</summary>
    public required DataSource Source { get; init; }
    /// <summary>The view's join keys (definition names; field mapping is applied by the store).</summary>
    public required IReadOnlyList<string> JoinKeys { get; init; }
    /// <summary>The features to read (definition names).</summary>
    public required IReadOnlyList<string> Features { get; init; }
    /// <summary>Inclusive lower bound on the event timestamp.</summary>
    public required DateTimeOffset Start { get; init; }
    /// <summary>Inclusive upper bound on the event timestamp.</summary>
    public required DateTimeOffset End { get; init; }
    /// <summary>
    /// How many partitions the entity keys are split into (by a hash of the join key values); 1 reads every key.
    /// Materialization reads each partition on its own, on any silo.
    /// </summary>
    public int PartitionCount { get; init; } = 1;
    /// <summary>Which partition to read, 0 .. <see cref="PartitionCount"/> - 1.</summary>
    public int PartitionIndex { get; init; }
}

/// <summary>The latest row of one entity key: key values (in <see cref="LatestRowsQuery.JoinKeys"/> order), timestamps, and feature values (in <see cref="LatestRowsQuery.Features"/> order).</summary>
public sealed record LatestFeatureRow(IReadOnlyList<object?> JoinKeyValues, DateTimeOffset EventTimestamp, DateTimeOffset? CreatedTimestamp, IReadOnlyList<object?> FeatureValues);

/// <summary>Bad input to a historical retrieval (unknown feature, missing column, name collision); the message says what and how to fix it.</summary>
public sealed class HistoricalRetrievalException(string message) : GranaryException(message);
