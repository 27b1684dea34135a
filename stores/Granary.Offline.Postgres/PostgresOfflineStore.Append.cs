using System.Globalization;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;
using Npgsql;
using NpgsqlTypes;

namespace Granary.Offline.Postgres;

// Offline appends (pushes with to: offline) live apart from the retrieval code of this class.
public sealed partial class PostgresOfflineStore
{
    /// <inheritdoc/>
    /// <remarks>
    /// One binary COPY into the source's table inside one transaction: readers see all rows or none. Values are written
    /// in the table's own column types (an Int64 feature into an <c>integer</c> column is range-checked, a timestamp into a
    /// <c>timestamp without time zone</c> column is its UTC clock reading). Query sources cannot take appends.
    /// </remarks>
    public async Task<long> AppendRowsAsync(DataSource source, OfflineRowBatch rows, CancellationToken cancellationToken = default)
    {
        rows.CheckShape();
        if (source is not PostgresSource { Table: { Length: > 0 } table })
            throw new OfflineAppendException(source is PostgresSource
                    ? $"PostgreSQL source '{source.Name}' is a query; pushes can only append to a table source"
                    : $"source '{source.Name}' is a {OfflineSources.KindOf(source)} source; the PostgreSQL offline store appends to PostgreSQL table sources only",
                "point the push source's batch source at a table");
        if (rows.Rows.Count == 0) return 0;
        await using var pg = await OpenAsync(cancellationToken);
        var types = (await ReadSchemaAsync(pg, source, cancellationToken)).ToDictionary(c => c.Name, c => c.EngineType, StringComparer.Ordinal);
        var targets = rows.Columns.Select(c => types.TryGetValue(c.Name, out var type) ? ColumnWriter.For(c, type, source.Name)
            : throw new OfflineAppendException($"table '{table}' of source '{source.Name}' has no column '{c.Name}'; its columns: {string.Join(", ", types.Keys)}",
                "add the column to the table, or fix the definitions")).ToList();
        await using var transaction = await pg.BeginTransactionAsync(cancellationToken);
        var columnList = string.Join(", ", rows.Columns.Select(c => Sql.Identifier(c.Name)));
        // Skipping stored copies: the rows go to a temporary table first, then only those the table lacks go in.
        var staging = rows.SkipStoredCopies ? "granary_append_" + Guid.NewGuid().ToString("N") : null;
        if (staging is not null)
            await ExecuteAsync(pg, transaction, $"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {columnList} FROM {table} WITH NO DATA", cancellationToken);
        await using (var writer = await pg.BeginBinaryImportAsync($"COPY {staging ?? table} ({columnList}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in rows.Rows)
            {
                await writer.StartRowAsync(cancellationToken);
                for (var c = 0; c < targets.Count; c++)
                {
                    if (row[c] is null) await writer.WriteNullAsync(cancellationToken);
                    else await writer.WriteAsync(targets[c].Convert(row[c]!), targets[c].Type, cancellationToken);
                }
            }
            await writer.CompleteAsync(cancellationToken);
        }
        var appended = staging is null ? rows.Rows.Count
            // EXCEPT ALL: an equal row stored once removes one copy; NULLs compare equal, as set operations do.
            : await ExecuteAsync(pg, transaction,
                $"INSERT INTO {table} ({columnList}) SELECT {columnList} FROM {staging} EXCEPT ALL SELECT {columnList} FROM {table}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return appended;
    }

    private static async Task<long> ExecuteAsync(NpgsqlConnection pg, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, pg, transaction);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How one pushed column is written into a table column of a given PostgreSQL type.</summary>
    private sealed record ColumnWriter(NpgsqlDbType Type, Func<object, object> Convert)
    {
        public static ColumnWriter For(OfflineColumn column, string postgresType, string source)
        {
            var isArray = postgresType.EndsWith("[]", StringComparison.Ordinal);
            if (isArray != column.Type.IsList)
                throw Mismatch(column, postgresType, source);
            var (type, scalar) = Scalar(postgresType.TrimEnd('[', ']'), column, postgresType, source);
            if (!isArray) return new ColumnWriter(type, scalar);
            return new ColumnWriter(NpgsqlDbType.Array | type, value =>
            {
                var items = (Array)value;
                var converted = new object[items.Length];
                for (var i = 0; i < items.Length; i++) converted[i] = scalar(items.GetValue(i)!);
                return converted;
            });
        }

        private static (NpgsqlDbType, Func<object, object>) Scalar(string postgresType, OfflineColumn column, string shown, string source)
        {
            var s = column.Type.Scalar;
            bool Is(params ScalarType[] allowed) => allowed.Contains(s);
            return postgresType switch
            {
                "smallint" when Is(ScalarType.Int32, ScalarType.Int64) => (NpgsqlDbType.Smallint, v => checked((short)System.Convert.ToInt64(v, CultureInfo.InvariantCulture))),
                "integer" when Is(ScalarType.Int32, ScalarType.Int64) => (NpgsqlDbType.Integer, v => checked((int)System.Convert.ToInt64(v, CultureInfo.InvariantCulture))),
                "bigint" when Is(ScalarType.Int32, ScalarType.Int64) => (NpgsqlDbType.Bigint, v => System.Convert.ToInt64(v, CultureInfo.InvariantCulture)),
                "real" when Is(ScalarType.Float32, ScalarType.Float64) => (NpgsqlDbType.Real, v => System.Convert.ToSingle(v, CultureInfo.InvariantCulture)),
                "double precision" when Is(ScalarType.Float32, ScalarType.Float64) => (NpgsqlDbType.Double, v => System.Convert.ToDouble(v, CultureInfo.InvariantCulture)),
                "numeric" when Is(ScalarType.Float32, ScalarType.Float64, ScalarType.Int32, ScalarType.Int64) => (NpgsqlDbType.Numeric, v => System.Convert.ToDecimal(v, CultureInfo.InvariantCulture)),
                "text" or "character varying" or "character" when Is(ScalarType.String) => (NpgsqlDbType.Text, v => v),
                "boolean" when Is(ScalarType.Bool) => (NpgsqlDbType.Boolean, v => v),
                "bytea" when Is(ScalarType.Bytes) => (NpgsqlDbType.Bytea, v => v),
                "timestamp with time zone" when Is(ScalarType.UnixTimestamp) => (NpgsqlDbType.TimestampTz, v => ((DateTimeOffset)v).UtcDateTime),
                // Naive columns hold UTC clock readings (the rule every reader of them applies).
                "timestamp without time zone" when Is(ScalarType.UnixTimestamp) => (NpgsqlDbType.Timestamp, v => DateTime.SpecifyKind(((DateTimeOffset)v).UtcDateTime, DateTimeKind.Unspecified)),
                _ => throw Mismatch(column, shown, source),
            };
        }

        private static OfflineAppendException Mismatch(OfflineColumn column, string postgresType, string source)
            => new($"column '{column.Name}' of source '{source}' is {postgresType} in PostgreSQL, which cannot hold {column.Type} values",
                "change the column's type, or the feature's type in the definitions");
    }
}
