using DuckDB.NET.Data;
using Granary.Offline;

namespace Granary.Offline.DuckDb;

/// <summary>The entity dataframe loaded into a DuckDB table: its columns and the column chosen as the entity timestamp.</summary>
internal sealed record EntityTable(string TableName, IReadOnlyList<DuckDbColumn> Columns, string TimestampColumn, long RowCount)
{
    /// <summary>Prefix of columns Granary adds internally; entity dataframes may not use it.</summary>
    public const string ReservedPrefix = "__granary";

    /// <summary>The name under which the entity table's rowid (input order) is carried through staging tables.</summary>
    public const string RowIdColumn = "__granary_row_id";

    /// <summary>The entity timestamp as microseconds since the Unix epoch, UTC (naive values taken as UTC).</summary>
    public const string TimestampUtcColumn = "__granary_entity_us";

    /// <summary>Whether the dataframe has a column of that name.</summary>
    public bool Has(string column) => Columns.Any(c => c.Name == column);

    /// <summary>The column names, comma-separated, for messages.</summary>
    public string ColumnList => string.Join(", ", Columns.Select(c => c.Name));

    /// <summary>
    /// Loads an entity dataframe (Parquet, CSV or inline rows) into temporary table <paramref name="tableName"/>, adding
    /// <see cref="TimestampUtcColumn"/>; the table's <c>rowid</c> numbers the input rows in order. Throws <see cref="HistoricalRetrievalException"/>
    /// for a missing file, an unknown format, or no usable timestamp column.
    /// </summary>
    public static EntityTable Load(DuckDBConnection connection, EntityDataFrame entities, string tableName, string? basePath = null)
    {
        // Files are read straight into the final table (one copy); inline rows go through a small staging table.
        string relation;
        var raw = tableName + "_raw";
        if (entities.Path is { } path)
        {
            var full = System.IO.Path.GetFullPath(path, basePath ?? Directory.GetCurrentDirectory());
            if (!File.Exists(full)) throw new HistoricalRetrievalException($"entity dataframe file '{full}' does not exist");
            relation = System.IO.Path.GetExtension(full).ToLowerInvariant() switch
            {
                ".parquet" => $"read_parquet({Sql.Literal(full)})",
                ".csv" => $"read_csv({Sql.Literal(full)}, header = true)",
                var other => throw new HistoricalRetrievalException($"entity dataframe file '{full}' has extension '{other}'; use a .parquet or .csv file"),
            };
        }
        else
        {
            LoadInline(connection, entities, raw);
            relation = Sql.Identifier(raw);
        }

        var columns = connection.Describe($"SELECT * FROM {relation}");
        foreach (var column in columns)
        {
            if (column.Name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
                throw new HistoricalRetrievalException($"entity dataframe column '{column.Name}' starts with '{ReservedPrefix}', which Granary reserves; rename it");
        }
        var timestamp = ChooseTimestampColumn(columns);
        var ts = Sql.Identifier(timestamp.Name);
        if (timestamp.SqlType == "VARCHAR")
        {
            // CSV columns mixing naive and zoned times may stay text; every value must still parse as a time.
            var bad = connection.QueryScalar($"SELECT {ts} FROM {relation} WHERE {ts} IS NOT NULL AND TRY_CAST({ts} AS TIMESTAMPTZ) IS NULL LIMIT 1");
            if (bad is not null)
                throw new HistoricalRetrievalException($"entity timestamp column '{timestamp.Name}' has value '{bad}', which is not a timestamp (use ISO 8601, e.g. 2024-01-31 12:00:00 or 2024-01-31T12:00:00+01:00)");
        }
        // The table's rowid follows insertion order (preserve_insertion_order is on), so it numbers the input rows.
        connection.Execute($"""
            CREATE OR REPLACE TEMP TABLE {Sql.Identifier(tableName)} AS
            SELECT *, {(timestamp.SqlType == "VARCHAR" ? $"epoch_us(CAST({ts} AS TIMESTAMPTZ))" : DuckDbTypeMap.EpochMicros(ts, timestamp))} AS {TimestampUtcColumn}
            FROM {relation};
            DROP TABLE IF EXISTS {Sql.Identifier(raw)};
            """);
        var count = (long)connection.QueryScalar($"SELECT count(*) FROM {Sql.Identifier(tableName)}")!;
        return new EntityTable(tableName, columns, timestamp.Name, count);
    }

    private static DuckDbColumn ChooseTimestampColumn(IReadOnlyList<DuckDbColumn> columns)
    {
        if (columns.FirstOrDefault(c => c.Name == "event_timestamp") is { } named)
        {
            if (!named.IsTime && named.SqlType != "VARCHAR")
                throw new HistoricalRetrievalException($"entity dataframe column 'event_timestamp' has type {named.SqlType}; it must be a timestamp");
            return named;
        }
        var times = columns.Where(c => c.IsTime).ToList();
        return times.Count switch
        {
            1 => times[0],
            0 => throw new HistoricalRetrievalException($"entity dataframe has no timestamp column: add an 'event_timestamp' column (columns: {string.Join(", ", columns.Select(c => c.Name))})"),
            _ => throw new HistoricalRetrievalException($"entity dataframe has no 'event_timestamp' column and several timestamp columns ({string.Join(", ", times.Select(c => c.Name))}); name the entity timestamp column 'event_timestamp'"),
        };
    }

    private static void LoadInline(DuckDBConnection connection, EntityDataFrame entities, string table)
    {
        if (entities.Columns.Count == 0) throw new HistoricalRetrievalException("the inline entity dataframe has no columns");
        var types = new string[entities.Columns.Count];
        for (var c = 0; c < types.Length; c++) types[c] = InlineType(entities, c);
        var definition = string.Join(", ", entities.Columns.Select((name, i) => $"{Sql.Identifier(name)} {types[i]}"));
        connection.Execute($"CREATE OR REPLACE TEMP TABLE {Sql.Identifier(table)} ({definition})");
        using var appender = connection.CreateAppender(table);
        foreach (var row in entities.Rows)
        {
            var appended = appender.CreateRow();
            for (var c = 0; c < types.Length; c++)
            {
                var value = row[c];
                DuckDbTypeMap.Append(appended, types[c] switch
                {
                    "BIGINT" when value is int i => (long)i,
                    "DOUBLE" when value is float f => (double)f,
                    "DOUBLE" when value is long or int => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
                    _ => value,
                });
            }
            appended.EndRow();
        }
    }

    private static string InlineType(EntityDataFrame entities, int column)
    {
        string? type = null;
        foreach (var row in entities.Rows)
        {
            var next = row[column] switch
            {
                null => null,
                long or int => "BIGINT",
                double or float => "DOUBLE",
                string => "VARCHAR",
                bool => "BOOLEAN",
                byte[] => "BLOB",
                DateTimeOffset => "TIMESTAMPTZ",
                DateTime => "TIMESTAMP",
                var other => throw new HistoricalRetrievalException($"inline entity column '{entities.Columns[column]}' has a {other.GetType().Name} value; use long, double, string, bool, DateTime or DateTimeOffset"),
            };
            if (next is null || next == type) continue;
            type = (type, next) switch
            {
                (null, _) => next,
                ("BIGINT", "DOUBLE") or ("DOUBLE", "BIGINT") => "DOUBLE",
                // Mixed naive (UTC) and zoned times: store all as instants.
                ("TIMESTAMP", "TIMESTAMPTZ") or ("TIMESTAMPTZ", "TIMESTAMP") => "TIMESTAMPTZ",
                _ => throw new HistoricalRetrievalException($"inline entity column '{entities.Columns[column]}' mixes {type} and {next} values"),
            };
        }
        return type ?? "VARCHAR";
    }
}
