using System.Diagnostics;
using System.Runtime.CompilerServices;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>
/// The embedded offline store: Parquet file sources read by DuckDB, point-in-time joins run as one SQL statement per
/// retrieval and streamed to the output file by COPY. Memory is bounded by <see cref="DuckDbEngineOptions.MemoryLimit"/>
/// (DuckDB spills to its temp directory beyond it). One database per store; one connection per operation.
/// </summary>
public sealed partial class DuckDbOfflineStore : IOfflineStore, IDisposable
{
    private readonly DuckDbEngine _engine;

    /// <summary>Opens the store's in-memory DuckDB database with the given options.</summary>
    public DuckDbOfflineStore(DuckDbEngineOptions? options = null) => _engine = new DuckDbEngine(options ?? new DuckDbEngineOptions());

    private string? RepositoryPath => _engine.Options.RepositoryPath;

    /// <summary>Opens a new connection to the store's database (see <see cref="DuckDbEngine.Connect"/>). Dispose it after use.</summary>
    public DuckDBConnection Connect() => _engine.Connect();

    /// <inheritdoc/>
    public bool CanRead(DataSource source) => source is FileSource;

    /// <inheritdoc/>
    public Task<IReadOnlyList<SourceColumn>> GetSourceSchemaAsync(DataSource source, CancellationToken cancellationToken = default)
    {
        using var reading = SingleFileGates.Read(ParquetSources.GatedPaths([source], RepositoryPath), cancellationToken);
        using var connection = Connect();
        var read = ParquetSources.ReadExpression(source, RepositoryPath);
        IReadOnlyList<DuckDbColumn> columns;
        try
        {
            columns = connection.Describe($"SELECT * FROM {read}");
        }
        catch (DuckDBException e)
        {
            throw new HistoricalRetrievalException($"cannot read the schema of file source '{source.Name}': {e.Message}");
        }
        return Task.FromResult<IReadOnlyList<SourceColumn>>(columns.Select(c => new SourceColumn(c.Name, c.SqlType, DuckDbTypeMap.ValueTypeOf(c.SqlType))).ToList());
    }

    /// <inheritdoc/>
    public Task<HistoricalRetrievalResult> RunPointInTimeJoinAsync(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress = null, CancellationToken cancellationToken = default)
        // DuckDB runs the statement on the calling thread (plus its own workers), so the whole job goes to the thread pool.
        => Task.Run(() => RunPointInTimeJoin(request, progress, cancellationToken), cancellationToken);

    /// <summary>Builds the SQL a retrieval would run, after loading and validating the entity dataframe (for docs, tests and debugging).</summary>
    public string ExplainPointInTimeJoin(HistoricalRetrieval request)
    {
        using var reading = SingleFileGates.Read(SingleFiles(request.Plan), CancellationToken.None);
        using var workspace = new RetrievalWorkspace(Connect);
        var (sources, keyTypes) = DescribeSources(workspace.Connection, request.Plan);
        var entities = EntityTable.Load(workspace.Connection, request.Entities, workspace.EntityTable, RepositoryPath, keyTypes, asView: true);
        entities.ValidateFor(request.Plan);
        return PointInTimeJoinSql.Build(request.Plan, entities, sources, keepInternalColumns: request.Plan.OnDemandViews.Count > 0);
    }

    private HistoricalRetrievalResult RunPointInTimeJoin(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var reading = SingleFileGates.Read(SingleFiles(request.Plan), cancellationToken);
        using var workspace = new RetrievalWorkspace(Connect);
        progress?.Report(new("loading entities", 0, 0, 0));
        var (sources, keyTypes) = DescribeSources(workspace.Connection, request.Plan);
        var entities = EntityTable.Load(workspace.Connection, request.Entities, workspace.EntityTable, RepositoryPath, keyTypes, asView: true);
        entities.ValidateFor(request.Plan);
        var onDemand = request.Plan.OnDemandViews.Count > 0;
        var sql = PointInTimeJoinSql.Build(request.Plan, entities, sources, keepInternalColumns: onDemand);
        var written = RetrievalOutputWriter.Write(workspace, request.Plan, entities, sql, request.OutputPath,
            progress is null ? null : progress.Report, cancellationToken);
        progress?.Report(new("done", 100, entities.RowCount, written));
        var columns = entities.Columns.Select(c => c.Name).Concat(request.Plan.OutputColumns).ToList();
        return new HistoricalRetrievalResult(entities.RowCount, written, columns, Path.GetFullPath(request.OutputPath), clock.Elapsed);
    }

    // The single-file sources a retrieval reads, whose replacement by an append must wait until it is done.
    private IEnumerable<string> SingleFiles(HistoricalRetrievalPlan plan) => ParquetSources.GatedPaths(plan.Views.Select(v => v.Source), RepositoryPath);

    /// <summary>
    /// Reads each view's source schema and checks it against the plan; returns each view's read expression and time columns,
    /// and the type each entity join-key column must have (that of the source column it is compared with).
    /// </summary>
    private (List<ViewSource> Sources, List<EntityKeyType> KeyTypes) DescribeSources(DuckDBConnection connection, HistoricalRetrievalPlan plan)
    {
        var sources = new List<ViewSource>();
        var keyTypes = new List<EntityKeyType>();
        foreach (var view in plan.Views)
        {
            var read = ParquetSources.ReadExpression(view.Source, RepositoryPath);
            IReadOnlyList<DuckDbColumn> columns;
            try
            {
                columns = connection.Describe($"SELECT * FROM {read}");
            }
            catch (DuckDBException e)
            {
                throw new HistoricalRetrievalException($"cannot read file source '{view.Source.Name}' of feature view '{view.View.Name}': {e.Message}");
            }
            view.RequireSourceColumns(columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal));
            DuckDbColumn TimeColumn(string name, string role)
            {
                var column = columns.First(c => c.Name == name);
                // Text would have to be parsed on every read; a mixed folder would silently disagree. The file must say what it holds.
                if (!column.IsTime)
                    throw new HistoricalRetrievalException($"{role} '{name}' of file source '{view.Source.Name}' (feature view '{view.View.Name}') has type {column.SqlType}; it must be TIMESTAMP, TIMESTAMP WITH TIME ZONE or DATE: rewrite the Parquet files with a timestamp column");
                return column;
            }
            var narrow = view.JoinKeys
                .Where(k => JoinKeyNarrowing.CanNarrow(connection, read, columns.First(c => c.Name == k.SourceColumn)))
                .Select(k => k.JoinKey).ToHashSet(StringComparer.Ordinal);
            var eventColumn = TimeColumn(view.TimestampColumn, "timestamp field");
            var createdColumn = view.CreatedTimestampColumn is { } created ? TimeColumn(created, "created timestamp field") : null;
            var order = createdColumn is null ? null : EventOrderEncoding.TryPlan(connection, read, eventColumn, createdColumn, ParquetSources.Fingerprint(view.Source, RepositoryPath));
            sources.Add(new ViewSource(read, eventColumn, createdColumn, narrow, order));
            foreach (var key in view.JoinKeys)
            {
                var column = columns.First(c => c.Name == key.SourceColumn);
                if (DuckDbTypeMap.ValueTypeOf(column.SqlType) is { } type)
                    keyTypes.Add(new EntityKeyType(key.EntityColumn, type, $"feature view '{view.NameToUse}' joins it with column '{key.SourceColumn}' ({column.SqlType}) of source '{view.Source.Name}'"));
            }
        }
        return (sources, keyTypes);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<LatestFeatureRow> ReadLatestRowsAsync(LatestRowsQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        using var reading = await SingleFileGates.ReadAsync(ParquetSources.GatedPaths([query.Source], RepositoryPath), cancellationToken);
        using var connection = Connect();
        var read = ParquetSources.ReadExpression(query.Source, RepositoryPath);
        var keys = query.JoinKeys.Select(k => Sql.Identifier(OfflineSources.StoredColumn(query.Source, k))).ToList();
        var columns = connection.Describe($"SELECT * FROM {read}");
        DuckDbColumn Column(string name) => columns.FirstOrDefault(c => c.Name == name)
            ?? throw new HistoricalRetrievalException($"source '{query.Source.Name}' has no column '{name}'; its columns: {string.Join(", ", columns.Select(c => c.Name))}");
        var tsName = OfflineSources.StoredColumn(query.Source, query.Source.TimestampField);
        var ts = Sql.Identifier(tsName);
        var eventMicros = DuckDbTypeMap.EpochMicros(ts, Column(tsName));
        var createdName = string.IsNullOrEmpty(query.Source.CreatedTimestampField) ? null : OfflineSources.StoredColumn(query.Source, query.Source.CreatedTimestampField);
        var created = createdName is null ? "NULL::BIGINT" : DuckDbTypeMap.EpochMicros(Sql.Identifier(createdName), Column(createdName));
        // Each feature as its declared type, whatever the file stores (see PointInTimeJoinSql).
        var features = query.Features.Select(f => $"CAST({Sql.Identifier(OfflineSources.StoredColumn(query.Source, f))} AS {DuckDbTypeMap.SqlTypeOf(DeclaredType(query.View, f))})");
        var partition = keys.Count == 0 ? "" : $"PARTITION BY {string.Join(", ", keys)} ";
        var sql = $"""
            SELECT {string.Concat(keys.Select(k => k + ", "))}{eventMicros} AS __event_us, {created} AS __created_us{string.Concat(features.Select(f => ", " + f))}
            FROM {read}
            WHERE {eventMicros} BETWEEN $1 AND $2{PartitionFilter(query, keys)}
            QUALIFY row_number() OVER ({partition}ORDER BY {ts} DESC{(createdName is null ? "" : $", {Sql.Identifier(createdName)} DESC NULLS LAST")}) = 1
            """;
        using var rows = connection.QueryRows(sql, DuckDbTypeMap.ToMicros(query.Start), DuckDbTypeMap.ToMicros(query.End));
        var keyCount = keys.Count;
        while (rows.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var keyValues = new object?[keyCount];
            for (var i = 0; i < keyCount; i++) keyValues[i] = rows.GetValue(i);
            var values = new object?[query.Features.Count];
            for (var i = 0; i < values.Length; i++) values[i] = rows.GetValue(keyCount + 2 + i);
            var createdMicros = (long?)rows.GetValue(keyCount + 1);
            yield return new LatestFeatureRow(keyValues, DuckDbTypeMap.FromMicros((long)rows.GetValue(keyCount)!), createdMicros is { } c ? DuckDbTypeMap.FromMicros(c) : null, values);
        }
    }

    private static Definitions.ValueType DeclaredType(FeatureView view, string feature)
        => view.Features.FirstOrDefault(f => f.Name == feature)?.Type
           ?? throw new HistoricalRetrievalException($"feature view '{view.Name}' has no feature '{feature}'; known: {string.Join(", ", view.Features.Select(f => f.Name))}");

    // Materialization reads a view in entity-hash partitions: hash() of the join key values picks each key's partition.
    private static string PartitionFilter(LatestRowsQuery query, IReadOnlyList<string> keys)
    {
        if (query.PartitionCount <= 1 || keys.Count == 0) return "";
        if (query.PartitionIndex < 0 || query.PartitionIndex >= query.PartitionCount)
            throw new ArgumentOutOfRangeException(nameof(query), $"partition {query.PartitionIndex} is outside 0..{query.PartitionCount - 1}");
        return $" AND hash({string.Join(", ", keys)}) % {query.PartitionCount} = {query.PartitionIndex}";
    }

    /// <summary>Closes the database (connections from <see cref="Connect"/> must be disposed first).</summary>
    public void Dispose() => _engine.Dispose();
}
