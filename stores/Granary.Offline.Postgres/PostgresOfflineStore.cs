using System.Data;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;
using Npgsql;
using NpgsqlTypes;

namespace Granary.Offline.Postgres;

/// <summary>
/// Offline store over PostgreSQL sources. The entity dataframe is read by the embedded DuckDB, its key and time columns
/// are uploaded to a temporary table with binary COPY, the join runs in PostgreSQL, and its rows stream back into a
/// DuckDB staging table (spilling to disk past the memory limit) from which on-demand views and the output file are written.
/// </summary>
public sealed partial class PostgresOfflineStore : IOfflineStore, IDisposable
{
    private const string EntityTableName = "granary_entities";
    private readonly PostgresOfflineStoreOptions _options;
    private readonly DuckDbEngine _duckDb;

    /// <summary>Creates the store; no connection is opened until used.</summary>
    public PostgresOfflineStore(PostgresOfflineStoreOptions options)
    {
        _options = options;
        _duckDb = new DuckDbEngine(options.DuckDb);
    }

    /// <inheritdoc/>
    public bool CanRead(DataSource source) => source is PostgresSource;

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_options.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        // Naive timestamp columns are UTC by convention; casting them to timestamptz in a UTC session does exactly that.
        await using var set = new NpgsqlCommand("SET TimeZone = 'UTC'", connection);
        await set.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SourceColumn>> GetSourceSchemaAsync(DataSource source, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadSchemaAsync(connection, source, cancellationToken);
    }

    private static async Task<IReadOnlyList<SourceColumn>> ReadSchemaAsync(NpgsqlConnection connection, DataSource source, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT * FROM {PostgresPointInTimeJoinSql.SourceRelation(source)} s LIMIT 0", connection);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SchemaOnly, cancellationToken);
            var columns = new List<SourceColumn>();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var type = reader.GetDataTypeName(i);
                columns.Add(new SourceColumn(reader.GetName(i), type, PostgresTypeMap.ValueTypeOf(type)));
            }
            return columns;
        }
        catch (PostgresException e)
        {
            throw new HistoricalRetrievalException($"cannot read PostgreSQL source '{source.Name}': {e.MessageText}");
        }
    }

    /// <inheritdoc/>
    public Task<HistoricalRetrievalResult> RunPointInTimeJoinAsync(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress = null, CancellationToken cancellationToken = default)
        => Task.Run(() => RunAsync(request, progress, cancellationToken), cancellationToken);

    private async Task<HistoricalRetrievalResult> RunAsync(HistoricalRetrieval request, IProgress<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var plan = request.Plan;
        foreach (var feature in plan.Views.SelectMany(v => v.Features))
        {
            if (feature.Type.IsList)
                throw new HistoricalRetrievalException($"feature '{feature.Feature}' is a list ({feature.Type}); the PostgreSQL offline store retrieves scalar features only");
        }
        using var workspace = new RetrievalWorkspace(_duckDb.Connect);
        var duck = workspace.Connection;
        progress?.Report(new("loading entities", 0, 0, 0));
        await using var pg = await OpenAsync(cancellationToken);
        var keyTypes = new List<EntityKeyType>();
        foreach (var view in plan.Views) keyTypes.AddRange(await ValidateSourceAsync(pg, view, cancellationToken));
        var entities = EntityTable.Load(duck, request.Entities, workspace.EntityTable, _options.DuckDb.RepositoryPath, keyTypes);
        entities.ValidateFor(plan);

        progress?.Report(new("uploading entities", 0, entities.RowCount, 0));
        await UploadEntitiesAsync(duck, pg, plan, entities, cancellationToken);

        // The joined features stream into a DuckDB table keyed by entity row id (DuckDB spills it past its memory limit).
        var features = plan.Views.SelectMany(v => v.Features).ToList();
        duck.Execute($"CREATE OR REPLACE TEMP TABLE {workspace.RemoteFeaturesTable} ({EntityTable.RowIdColumn} BIGINT{string.Concat(features.Select(f => $", {Sql.Identifier(f.ColumnName)} {DuckDbTypeMap.SqlTypeOf(f.Type)}"))})");
        await using (var command = new NpgsqlCommand(PostgresPointInTimeJoinSql.Build(plan, EntityTableName), pg))
        {
            command.CommandTimeout = 0;
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
            using var appender = duck.CreateAppender(workspace.RemoteFeaturesTable);
            long rows = 0;
            var lastReport = Environment.TickCount64;
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = appender.CreateRow();
                for (var i = 0; i < reader.FieldCount; i++)
                    DuckDbTypeMap.Append(row, await reader.IsDBNullAsync(i, cancellationToken) ? null : PostgresTypeMap.ForDuckDb(reader.GetValue(i)));
                row.EndRow();
                rows++;
                if (progress is not null && Environment.TickCount64 - lastReport >= 100)
                {
                    lastReport = Environment.TickCount64;
                    progress.Report(new("joining", entities.RowCount == 0 ? 100 : 100.0 * rows / entities.RowCount, entities.RowCount, rows));
                }
            }
        }

        duck.Execute($"""
            CREATE OR REPLACE TEMP TABLE {workspace.JoinedTable} AS
            SELECT e.* EXCLUDE ({EntityTable.TimestampUtcColumn}), f.*
            FROM {workspace.EntityTable} e JOIN {workspace.RemoteFeaturesTable} f ON f.{EntityTable.RowIdColumn} = e.rowid;
            DROP TABLE {workspace.RemoteFeaturesTable};
            """);
        var written = RetrievalOutputWriter.Write(workspace, plan, entities, joinQuery: null, request.OutputPath,
            progress is null ? null : progress.Report, cancellationToken);
        progress?.Report(new("done", 100, entities.RowCount, written));
        var columns = entities.Columns.Select(c => c.Name).Concat(plan.OutputColumns).ToList();
        return new HistoricalRetrievalResult(entities.RowCount, written, columns, Path.GetFullPath(request.OutputPath), clock.Elapsed);
    }

    /// <summary>Checks a view's source columns (and that its time columns hold times); returns the type each entity join-key column must have.</summary>
    private static async Task<List<EntityKeyType>> ValidateSourceAsync(NpgsqlConnection pg, ViewRetrieval view, CancellationToken cancellationToken)
    {
        var columns = await ReadSchemaAsync(pg, view.Source, cancellationToken);
        view.RequireSourceColumns(columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal));
        RequireTime(view.Source, columns, view.TimestampColumn, "timestamp field", view.View.Name);
        if (view.CreatedTimestampColumn is { } created) RequireTime(view.Source, columns, created, "created timestamp field", view.View.Name);
        var keyTypes = new List<EntityKeyType>();
        foreach (var key in view.JoinKeys)
        {
            var column = columns.First(c => c.Name == key.SourceColumn);
            if (column.ValueType is { } type)
                keyTypes.Add(new EntityKeyType(key.EntityColumn, type, $"feature view '{view.NameToUse}' joins it with column '{key.SourceColumn}' ({column.EngineType}) of PostgreSQL source '{view.Source.Name}'"));
        }
        return keyTypes;
    }

    /// <summary>
    /// A time column must be timestamptz, timestamp (UTC) or date. Text is refused rather than cast: PostgreSQL would read
    /// 'now' or 'yesterday' as times relative to the query, and the meaning of other text depends on the session.
    /// </summary>
    private static void RequireTime(DataSource source, IReadOnlyList<SourceColumn> columns, string name, string role, string? viewName)
    {
        var column = columns.First(c => c.Name == name);
        if (column.EngineType is not ("timestamp with time zone" or "timestamp without time zone" or "date"))
            throw new HistoricalRetrievalException($"{role} '{name}' of PostgreSQL source '{source.Name}'{(viewName is null ? "" : $" (feature view '{viewName}')")} has type {column.EngineType}; it must be timestamptz, timestamp (read as UTC) or date: convert it, e.g. ALTER TABLE ... ALTER COLUMN \"{name}\" TYPE timestamptz USING \"{name}\"::timestamptz");
    }

    /// <summary>Sends the row id, the entity time (UTC) and the join-key columns to a PostgreSQL temporary table by binary COPY.</summary>
    private static async Task UploadEntitiesAsync(DuckDBConnection duck, NpgsqlConnection pg, HistoricalRetrievalPlan plan, EntityTable entities, CancellationToken cancellationToken)
    {
        var keyColumns = plan.Views.SelectMany(v => v.JoinKeys).Select(k => k.EntityColumn).Distinct(StringComparer.Ordinal)
            .Select(name => entities.Columns.First(c => c.Name == name))
            .Select(c => (c.Name, Type: PostgresTypeMap.JoinKeyTypeOf(c.Name, DuckDbTypeMap.ValueTypeOf(c.SqlType), c.SqlType))).ToList();
        var definitions = keyColumns.Select(c => $", {Sql.Identifier(c.Name)} {c.Type.SqlType}");
        await using (var create = new NpgsqlCommand(
            $"DROP TABLE IF EXISTS {EntityTableName}; CREATE TEMP TABLE {EntityTableName} ({EntityTable.RowIdColumn} bigint PRIMARY KEY, {PostgresPointInTimeJoinSql.EntityTimeColumn} timestamptz{string.Concat(definitions)})", pg))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        var columnList = string.Join(", ", new[] { EntityTable.RowIdColumn, PostgresPointInTimeJoinSql.EntityTimeColumn }.Concat(keyColumns.Select(c => Sql.Identifier(c.Name))));
        var selectList = string.Join(", ", new[] { $"rowid AS {EntityTable.RowIdColumn}", EntityTable.TimestampUtcColumn }.Concat(keyColumns.Select(c => Sql.Identifier(c.Name))));
        await using (var writer = await pg.BeginBinaryImportAsync($"COPY {EntityTableName} ({columnList}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            using var rows = duck.QueryRows($"SELECT {selectList} FROM {entities.TableName} ORDER BY rowid");
            while (rows.Read())
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync((long)rows.GetValue(0)!, NpgsqlDbType.Bigint, cancellationToken);
                if (rows.GetValue(1) is long micros) await writer.WriteAsync(DuckDbTypeMap.FromMicros(micros).UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                else await writer.WriteNullAsync(cancellationToken);
                for (var i = 0; i < keyColumns.Count; i++)
                {
                    var value = rows.GetValue(i + 2);
                    if (value is null) await writer.WriteNullAsync(cancellationToken);
                    else await writer.WriteAsync(PostgresTypeMap.ForJoinKey(value, keyColumns[i].Type), keyColumns[i].Type.NpgsqlType, cancellationToken);
                }
            }
            await writer.CompleteAsync(cancellationToken);
        }
        await using var analyze = new NpgsqlCommand($"ANALYZE {EntityTableName}", pg);
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<LatestFeatureRow> ReadLatestRowsAsync(LatestRowsQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var pg = await OpenAsync(cancellationToken);
        var schema = await ReadSchemaAsync(pg, query.Source, cancellationToken);
        foreach (var (field, role) in new[] { (query.Source.TimestampField, "timestamp field"), (query.Source.CreatedTimestampField, "created timestamp field") })
        {
            if (string.IsNullOrEmpty(field)) continue;
            var stored = OfflineSources.StoredColumn(query.Source, field);
            if (schema.All(c => c.Name != stored))
                throw new HistoricalRetrievalException($"PostgreSQL source '{query.Source.Name}' has no column '{stored}' ({role}); its columns: {string.Join(", ", schema.Select(c => c.Name))}");
            RequireTime(query.Source, schema, stored, role, query.View.Name);
        }
        var keys = query.JoinKeys.Select(k => "s." + Sql.Identifier(OfflineSources.StoredColumn(query.Source, k))).ToList();
        var ts = $"s.{Sql.Identifier(OfflineSources.StoredColumn(query.Source, query.Source.TimestampField))}::timestamptz";
        var createdName = string.IsNullOrEmpty(query.Source.CreatedTimestampField) ? null : OfflineSources.StoredColumn(query.Source, query.Source.CreatedTimestampField);
        var created = createdName is null ? "NULL::timestamptz" : $"s.{Sql.Identifier(createdName)}::timestamptz";
        // Each feature as its declared type, whatever the table stores (a numeric column declared Float64 arrives as double).
        var features = query.Features.Select(f => $"CAST(s.{Sql.Identifier(OfflineSources.StoredColumn(query.Source, f))} AS {PostgresTypeMap.SqlTypeOf(query.View.Features.First(x => x.Name == f).Type)})");
        var distinct = keys.Count == 0 ? "" : $"DISTINCT ON ({string.Join(", ", keys)}) ";
        var sql = $"""
            SELECT {distinct}{string.Concat(keys.Select(k => k + ", "))}{ts} AS event_ts, {created} AS created_ts{string.Concat(features.Select(f => ", " + f))}
            FROM {PostgresPointInTimeJoinSql.SourceRelation(query.Source)} s
            WHERE {ts} BETWEEN @start AND @end{PartitionFilter(query, keys)}
            ORDER BY {string.Concat(keys.Select(k => k + ", "))}{ts} DESC{(createdName is null ? "" : $", {created} DESC NULLS LAST")}{(keys.Count == 0 ? " LIMIT 1" : "")}
            """;
        await using var command = new NpgsqlCommand(sql, pg);
        command.CommandTimeout = 0;
        command.Parameters.AddWithValue("start", query.Start.UtcDateTime);
        command.Parameters.AddWithValue("end", query.End.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keyCount = keys.Count;
        while (await reader.ReadAsync(cancellationToken))
        {
            var keyValues = new object?[keyCount];
            for (var i = 0; i < keyCount; i++) keyValues[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            var values = new object?[query.Features.Count];
            for (var i = 0; i < values.Length; i++) values[i] = reader.IsDBNull(keyCount + 2 + i) ? null : reader.GetValue(keyCount + 2 + i);
            var eventTs = new DateTimeOffset(reader.GetDateTime(keyCount), TimeSpan.Zero);
            DateTimeOffset? createdTs = reader.IsDBNull(keyCount + 1) ? null : new DateTimeOffset(reader.GetDateTime(keyCount + 1), TimeSpan.Zero);
            yield return new LatestFeatureRow(keyValues, eventTs, createdTs, values);
        }
    }

    // Materialization reads a view in entity-hash partitions: a hash of the join key values' text picks each key's partition.
    private static string PartitionFilter(LatestRowsQuery query, IReadOnlyList<string> keys)
    {
        if (query.PartitionCount <= 1 || keys.Count == 0) return "";
        if (query.PartitionIndex < 0 || query.PartitionIndex >= query.PartitionCount)
            throw new ArgumentOutOfRangeException(nameof(query), $"partition {query.PartitionIndex} is outside 0..{query.PartitionCount - 1}");
        var hashed = string.Join(" || '|' || ", keys.Select(k => $"coalesce({k}::text, '')"));
        return $" AND mod(abs(hashtext({hashed})::bigint), {query.PartitionCount}) = {query.PartitionIndex}";
    }

    /// <summary>Closes the embedded DuckDB.</summary>
    public void Dispose() => _duckDb.Dispose();
}
