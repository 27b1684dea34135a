using System.Diagnostics;
using System.Runtime.CompilerServices;
using Granary.Definitions;
using Granary.DuckDb;
using Granary.Offline;

namespace Granary.Offline.DuckDb;

/// <summary>
/// The embedded offline store: Parquet file sources read by DuckDB, point-in-time joins run as one SQL statement per
/// retrieval and streamed to the output file by COPY. Memory is bounded by <see cref="DuckDbOfflineStoreOptions.MemoryLimit"/>
/// (DuckDB spills to its temp directory beyond it). One database per store; one connection per operation.
/// </summary>
public sealed class DuckDbOfflineStore : IOfflineStore, IDisposable
{
    private readonly DuckDbOfflineStoreOptions _options;
    private readonly DuckDbDatabase _database;

    /// <summary>Opens the store's in-memory DuckDB database with the given options.</summary>
    public DuckDbOfflineStore(DuckDbOfflineStoreOptions? options = null)
    {
        _options = options ?? new DuckDbOfflineStoreOptions();
        var settings = _options.ToDuckDbSettings();
        Directory.CreateDirectory(settings["temp_directory"]);
        _database = DuckDbDatabase.Open(settings: settings);
    }

    /// <summary>Opens a connection set to UTC, so naive timestamps are read as UTC and zoned ones are converted.</summary>
    public DuckDbConnection Connect()
    {
        var connection = _database.Connect();
        connection.Execute("SET TimeZone = 'UTC'");
        return connection;
    }

    /// <inheritdoc/>
    public bool CanRead(DataSource source) => source is FileSource;

    /// <inheritdoc/>
    public Task<IReadOnlyList<SourceColumn>> GetSourceSchemaAsync(DataSource source, CancellationToken cancellationToken = default)
    {
        using var connection = Connect();
        var read = ParquetSources.ReadExpression(source, _options.RepositoryPath);
        IReadOnlyList<DuckDbColumn> columns;
        try
        {
            columns = EntityTable.Describe(connection, $"SELECT * FROM {read}");
        }
        catch (DuckDbException e)
        {
            throw new HistoricalRetrievalException($"cannot read the schema of file source '{source.Name}': {e.Message}");
        }
        return Task.FromResult<IReadOnlyList<SourceColumn>>(columns.Select(c => new SourceColumn(c.Name, c.SqlType, ValueTypeOf(c))).ToList());
    }

    /// <summary>The feature value type of a DuckDB column type; null when none fits.</summary>
    public static Definitions.ValueType? ValueTypeOf(DuckDbColumn column)
    {
        static ScalarType? Scalar(DuckDbType type) => type switch
        {
            DuckDbType.TinyInt or DuckDbType.SmallInt or DuckDbType.Integer or DuckDbType.UTinyInt or DuckDbType.USmallInt => ScalarType.Int32,
            DuckDbType.BigInt or DuckDbType.UInteger or DuckDbType.UBigInt => ScalarType.Int64,
            DuckDbType.Float => ScalarType.Float32,
            DuckDbType.Double or DuckDbType.Decimal => ScalarType.Float64,
            DuckDbType.Varchar => ScalarType.String,
            DuckDbType.Boolean => ScalarType.Bool,
            DuckDbType.Blob => ScalarType.Bytes,
            _ when EntityTable.IsTime(type) => ScalarType.UnixTimestamp,
            _ => null,
        };
        if (column.Type == DuckDbType.List)
            return Scalar(column.ElementType) is { } element ? new Definitions.ValueType(element, IsList: true) : null;
        return Scalar(column.Type) is { } scalar ? new Definitions.ValueType(scalar) : null;
    }

    /// <inheritdoc/>
    public Task<HistoricalRetrievalResult> RunPointInTimeJoinAsync(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress = null, CancellationToken cancellationToken = default)
        // DuckDB runs the statement on the calling thread (plus its own workers), so the whole job goes to the thread pool.
        => Task.Run(() => RunPointInTimeJoin(request, progress, cancellationToken), cancellationToken);

    /// <summary>Builds the SQL a retrieval would run, after loading and validating the entity dataframe (for docs, tests and debugging).</summary>
    public string ExplainPointInTimeJoin(HistoricalRetrieval request)
    {
        using var connection = Connect();
        var entities = EntityTable.Load(connection, request.Entities, "granary_entities", _options.RepositoryPath);
        var sources = Validate(connection, request.Plan, entities);
        return PointInTimeJoinSql.Build(request.Plan, entities, sources, keepInternalColumns: request.Plan.OnDemandViews.Count > 0);
    }

    private HistoricalRetrievalResult RunPointInTimeJoin(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var connection = Connect();
        progress?.Report(new("loading entities", 0, 0, 0));
        var entities = EntityTable.Load(connection, request.Entities, "granary_entities", _options.RepositoryPath);
        try
        {
            var sources = Validate(connection, request.Plan, entities);
            var onDemand = request.Plan.OnDemandViews.Count > 0;
            var sql = PointInTimeJoinSql.Build(request.Plan, entities, sources, keepInternalColumns: onDemand);
            var written = RetrievalOutputWriter.Write(connection, request.Plan, entities, sql, joinedTableReady: false, request.OutputPath,
                progress is null ? null : progress.Report, cancellationToken);
            progress?.Report(new("done", 100, entities.RowCount, written));
            var columns = entities.Columns.Select(c => c.Name).Concat(request.Plan.OutputColumns).ToList();
            return new HistoricalRetrievalResult(entities.RowCount, written, columns, Path.GetFullPath(request.OutputPath), clock.Elapsed);
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {entities.TableName}");
        }
    }

    /// <summary>Checks entity columns and source columns against the plan; returns each view's read expression.</summary>
    private List<ViewSource> Validate(DuckDbConnection connection, HistoricalRetrievalPlan plan, EntityTable entities)
    {
        ValidateEntityColumns(plan, entities);
        var sources = new List<ViewSource>();
        foreach (var view in plan.Views)
        {
            var read = ParquetSources.ReadExpression(view.Source, _options.RepositoryPath);
            IReadOnlyList<DuckDbColumn> columns;
            try
            {
                columns = EntityTable.Describe(connection, $"SELECT * FROM {read}");
            }
            catch (DuckDbException e)
            {
                throw new HistoricalRetrievalException($"cannot read file source '{view.Source.Name}' of feature view '{view.View.Name}': {e.Message}");
            }
            view.RequireSourceColumns(columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal));
            sources.Add(new ViewSource(read, columns.First(c => c.Name == view.TimestampColumn),
                view.CreatedTimestampColumn is { } created ? columns.First(c => c.Name == created) : null));
        }
        return sources;
    }

    /// <summary>Checks that every join-key column is in the entity dataframe and no output name collides with one of its columns.</summary>
    public static void ValidateEntityColumns(HistoricalRetrievalPlan plan, EntityTable entities)
    {
        foreach (var view in plan.Views)
        {
            foreach (var key in view.JoinKeys)
            {
                if (!entities.Has(key.EntityColumn))
                    throw new HistoricalRetrievalException($"entity dataframe has no column '{key.EntityColumn}', which feature view '{view.NameToUse}' joins on (join key '{key.JoinKey}'); columns: {entities.ColumnList}");
            }
        }
        foreach (var output in plan.OutputColumns)
        {
            if (entities.Has(output))
                throw new HistoricalRetrievalException($"feature column '{output}' collides with the entity dataframe column of the same name; rename the column or use full feature names");
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<LatestFeatureRow> ReadLatestRowsAsync(LatestRowsQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        using var connection = Connect();
        var read = ParquetSources.ReadExpression(query.Source, _options.RepositoryPath);
        var keys = query.JoinKeys.Select(k => Sql.Identifier(OfflineSources.StoredColumn(query.Source, k))).ToList();
        var columns = EntityTable.Describe(connection, $"SELECT * FROM {read}");
        DuckDbColumn Column(string name) => columns.FirstOrDefault(c => c.Name == name)
            ?? throw new HistoricalRetrievalException($"source '{query.Source.Name}' has no column '{name}'; its columns: {string.Join(", ", columns.Select(c => c.Name))}");
        var tsName = OfflineSources.StoredColumn(query.Source, query.Source.TimestampField);
        var ts = Sql.Identifier(tsName);
        var eventMicros = EntityTable.EpochMicros(ts, Column(tsName));
        var createdName = string.IsNullOrEmpty(query.Source.CreatedTimestampField) ? null : OfflineSources.StoredColumn(query.Source, query.Source.CreatedTimestampField);
        var created = createdName is null ? "NULL::BIGINT" : EntityTable.EpochMicros(Sql.Identifier(createdName), Column(createdName));
        var features = query.Features.Select(f => Sql.Identifier(OfflineSources.StoredColumn(query.Source, f)));
        var partition = keys.Count == 0 ? "" : $"PARTITION BY {string.Join(", ", keys)} ";
        var sql = $"""
            SELECT {string.Concat(keys.Select(k => k + ", "))}{eventMicros} AS __event_us, {created} AS __created_us{string.Concat(features.Select(f => ", " + f))}
            FROM {read}
            WHERE {eventMicros} BETWEEN $1 AND $2
            QUALIFY row_number() OVER ({partition}ORDER BY {ts} DESC{(createdName is null ? "" : $", {Sql.Identifier(createdName)} DESC NULLS LAST")}) = 1
            """;
        using var statement = connection.Prepare(sql);
        statement.Bind(1, DuckDbTime.ToMicros(query.Start));
        statement.Bind(2, DuckDbTime.ToMicros(query.End));
        using var rows = new DuckDbRowReader(statement.Query());
        var keyCount = keys.Count;
        while (rows.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var keyValues = new object?[keyCount];
            for (var i = 0; i < keyCount; i++) keyValues[i] = rows.GetValue(i);
            var values = new object?[query.Features.Count];
            for (var i = 0; i < values.Length; i++) values[i] = rows.GetValue(keyCount + 2 + i);
            var createdMicros = (long?)rows.GetValue(keyCount + 1);
            yield return new LatestFeatureRow(keyValues, DuckDbTime.FromMicros((long)rows.GetValue(keyCount)!), createdMicros is { } c ? DuckDbTime.FromMicros(c) : null, values);
        }
    }

    /// <summary>Closes the database.</summary>
    public void Dispose() => _database.Dispose();
}
