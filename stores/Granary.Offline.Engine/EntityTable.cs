using DuckDB.NET.Data;
using Granary.Offline;

namespace Granary.Offline.Engine;

/// <summary>The type a join-key column of the entity dataframe must have, and why (for the error when a value does not fit).</summary>
public sealed record EntityKeyType(string EntityColumn, Definitions.ValueType Type, string Reason);

/// <summary>
/// The entity dataframe as a DuckDB relation: its columns, the column chosen as the entity timestamp, and the expression
/// that numbers its rows in input order (<c>rowid</c> of a loaded table, or <see cref="RowNumberColumn"/> of a view).
/// </summary>
public sealed record EntityTable(string TableName, IReadOnlyList<DuckDbColumn> Columns, string TimestampColumn, long RowCount, string RowNumber = "rowid")
{
    /// <summary>The Parquet row number a view over the entity file carries (DuckDB's <c>file_row_number</c>, renamed).</summary>
    public const string RowNumberColumn = "__granary_row_number";

    /// <summary>Whether the dataframe is a view over its file rather than a loaded copy.</summary>
    public bool IsView => RowNumber == RowNumberColumn;

    /// <summary>The internal columns to leave out of <c>e.*</c>.</summary>
    public string InternalColumns => IsView ? $"{TimestampUtcColumn}, {RowNumberColumn}" : TimestampUtcColumn;

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

    /// <summary>Checks that every join-key column of <paramref name="plan"/> is in the dataframe and no output name collides with one of its columns.</summary>
    public void ValidateFor(HistoricalRetrievalPlan plan)
    {
        foreach (var view in plan.Views)
        {
            foreach (var key in view.JoinKeys)
            {
                if (!Has(key.EntityColumn))
                    throw new HistoricalRetrievalException($"entity dataframe has no column '{key.EntityColumn}', which feature view '{view.NameToUse}' joins on (join key '{key.JoinKey}'); columns: {ColumnList}");
            }
        }
        foreach (var output in plan.OutputColumns)
        {
            if (Has(output))
                throw new HistoricalRetrievalException($"feature column '{output}' collides with the entity dataframe column of the same name; rename the column or use full feature names");
        }
    }

    /// <summary>
    /// Loads an entity dataframe (Parquet, CSV or inline rows) into temporary table <paramref name="tableName"/>, adding
    /// <see cref="TimestampUtcColumn"/>; the table's <c>rowid</c> numbers the input rows in order. No type that changes a
    /// result is left to a guess from a sample: a text timestamp column (a CSV's always) is parsed value by value (naive =
    /// UTC, offsets honoured), and a join-key column whose type differs from the key's (<paramref name="keyTypes"/>) is
    /// converted value by value; the first value that does not fit is reported with its file, column and row. Throws
    /// <see cref="HistoricalRetrievalException"/> for a missing or empty file, an unknown format, or no usable timestamp column.
    /// With <c>asView</c>, a Parquet file that needs no conversion is read in place through a temporary view numbered by
    /// its Parquet row order (no copy: the join scans the file once); callers that number rows by <c>rowid</c> pass false.
    /// </summary>
    public static EntityTable Load(DuckDBConnection connection, EntityDataFrame entities, string tableName, string? basePath = null,
        IReadOnlyList<EntityKeyType>? keyTypes = null, bool asView = false)
    {
        // Files are read straight into the final table (one copy); inline rows go through a small staging table.
        string relation;
        IReadOnlyList<DuckDbColumn> columns;
        string origin;
        string? csvTimestamp = null;
        var raw = tableName + "_raw";
        if (entities.Path is { } path)
        {
            var full = System.IO.Path.GetFullPath(path, basePath ?? Directory.GetCurrentDirectory());
            origin = $"entity dataframe file '{full}'";
            if (!File.Exists(full)) throw new HistoricalRetrievalException($"{origin} does not exist");
            if (new FileInfo(full).Length == 0)
                throw new HistoricalRetrievalException($"{origin} is empty (0 bytes); write a header row with the join keys and 'event_timestamp', then one row per entity");
            (relation, columns, csvTimestamp) = System.IO.Path.GetExtension(full).ToLowerInvariant() switch
            {
                ".parquet" => ReadParquet(connection, full, origin),
                ".csv" => ReadCsv(connection, full, origin),
                var other => throw new HistoricalRetrievalException($"{origin} has extension '{other}'; use a .parquet or .csv file"),
            };
        }
        else
        {
            origin = "the inline entity dataframe";
            LoadInline(connection, entities, raw);
            relation = Sql.Identifier(raw);
            columns = connection.Describe($"SELECT * FROM {relation}");
        }

        foreach (var column in columns)
        {
            if (column.Name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
                throw new HistoricalRetrievalException($"entity dataframe column '{column.Name}' starts with '{ReservedPrefix}', which Granary reserves; rename it");
        }
        var timestamp = csvTimestamp is { } chosen ? columns.Single(c => c.Name == chosen) : ChooseTimestampColumn(columns);
        var ts = Sql.Identifier(timestamp.Name);
        var table = Sql.Identifier(tableName);
        var textTime = timestamp.SqlType == "VARCHAR";
        // Text is parsed value by value as TIMESTAMPTZ: the session is UTC, so a value without an offset is UTC and one with
        // an offset is converted. A value that does not parse becomes NULL here and is reported just below.
        var micros = textTime ? $"epoch_us(TRY_CAST({ts} AS TIMESTAMPTZ))" : DuckDbTypeMap.EpochMicros(ts, timestamp);
        if (asView && relation.StartsWith("read_parquet(", StringComparison.Ordinal) && !textTime
            && !columns.Any(c => c.Name == "file_row_number") && KeyConversions(columns, keyTypes ?? []).Count == 0)
        {
            // Nothing to convert or check value by value: read the file where it lies, numbered by its Parquet row order.
            var numbered = relation[..^1] + ", file_row_number = true)";
            connection.Execute($"""
                CREATE OR REPLACE TEMP VIEW {table} AS
                SELECT * EXCLUDE (file_row_number), {micros} AS {TimestampUtcColumn}, file_row_number AS {RowNumberColumn}
                FROM {numbered}
                """);
            var rows = (long)connection.QueryScalar($"SELECT count(*) FROM {relation}")!;
            return new EntityTable(tableName, columns, timestamp.Name, rows, RowNumberColumn);
        }
        // The table's rowid follows insertion order (preserve_insertion_order is on), so it numbers the input rows.
        connection.Execute($"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT *, {micros} AS {TimestampUtcColumn}
            FROM {relation};
            DROP TABLE IF EXISTS {Sql.Identifier(raw)};
            """);
        if (textTime)
        {
            using (var bad = connection.QueryRows($"SELECT rowid, {ts} FROM {table} WHERE {ts} IS NOT NULL AND {TimestampUtcColumn} IS NULL ORDER BY rowid LIMIT 1"))
            {
                if (bad.Read())
                    throw new HistoricalRetrievalException($"entity timestamp column '{timestamp.Name}' has value '{bad.GetValue(1)}', which is not a timestamp, at row {(long)bad.GetValue(0)! + 1} of {origin} (use ISO 8601, e.g. 2024-01-31 12:00:00 for UTC or 2024-01-31T12:00:00+01:00)");
            }
            // The column passes through as the instants it holds, not as text.
            connection.Execute($"ALTER TABLE {table} ALTER {ts} TYPE TIMESTAMPTZ USING CAST({ts} AS TIMESTAMPTZ)");
            columns = columns.Select(c => c.Name == timestamp.Name ? c with { SqlType = "TIMESTAMP WITH TIME ZONE" } : c).ToList();
        }
        columns = ConvertKeyColumns(connection, table, columns, keyTypes ?? [], origin);
        var count = (long)connection.QueryScalar($"SELECT count(*) FROM {table}")!;
        return new EntityTable(tableName, columns, timestamp.Name, count);
    }

    private static (string Relation, IReadOnlyList<DuckDbColumn> Columns, string? Timestamp) ReadParquet(DuckDBConnection connection, string path, string origin)
    {
        var relation = $"read_parquet({Sql.Literal(path)})";
        try
        {
            return (relation, connection.Describe($"SELECT * FROM {relation}"), null);
        }
        catch (DuckDBException e)
        {
            throw new HistoricalRetrievalException($"{origin} cannot be read as Parquet: {FirstLine(e.Message)}");
        }
    }

    /// <summary>
    /// A CSV is read in two passes. The first detects the dialect and the column types from every row (sample_size = -1),
    /// so no later row can contradict a type guessed from the first rows. The second reads with those types fixed, except
    /// the timestamp column, which is read as text and parsed value by value (see <see cref="Load"/>).
    /// </summary>
    private static (string Relation, IReadOnlyList<DuckDbColumn> Columns, string? Timestamp) ReadCsv(DuckDBConnection connection, string path, string origin)
    {
        IReadOnlyList<DuckDbColumn> detected;
        try
        {
            detected = connection.Describe($"SELECT * FROM read_csv({Sql.Literal(path)}, header = true, sample_size = -1)");
        }
        catch (DuckDBException e)
        {
            throw new HistoricalRetrievalException($"{origin} cannot be read as CSV: {FirstLine(e.Message)}");
        }
        var timestamp = detected.FirstOrDefault(c => c.Name == "event_timestamp") ?? (detected.Count(c => c.IsTime) == 1 ? detected.Single(c => c.IsTime) : null);
        var columns = detected.Select(c => c == timestamp ? c with { SqlType = "VARCHAR" } : c).ToList();
        var types = string.Join(", ", columns.Select(c => $"{Sql.Literal(c.Name)}: {Sql.Literal(c.SqlType)}"));
        return ($"read_csv({Sql.Literal(path)}, header = true, columns = {{{types}}})", columns, timestamp?.Name);
    }

    /// <summary>
    /// Gives each join-key column the type of the key it is compared with, value by value; the first value that does not
    /// convert (e.g. 'abc' where the key is an Int64) is reported with its row, instead of DuckDB's cast error inside the join.
    /// </summary>
    private static IReadOnlyList<DuckDbColumn> ConvertKeyColumns(DuckDBConnection connection, string table, IReadOnlyList<DuckDbColumn> columns,
        IReadOnlyList<EntityKeyType> keyTypes, string origin)
    {
        var result = columns.ToList();
        foreach (var key in KeyConversions(columns, keyTypes))
        {
            var index = result.FindIndex(c => c.Name == key.EntityColumn);
            var target = DuckDbTypeMap.SqlTypeOf(key.Type);
            var column = Sql.Identifier(key.EntityColumn);
            using (var bad = connection.QueryRows($"SELECT rowid, CAST({column} AS VARCHAR) FROM {table} WHERE {column} IS NOT NULL AND TRY_CAST({column} AS {target}) IS NULL ORDER BY rowid LIMIT 1"))
            {
                if (bad.Read())
                    throw new HistoricalRetrievalException($"entity column '{key.EntityColumn}' has value '{bad.GetValue(1)}' at row {(long)bad.GetValue(0)! + 1} of {origin}, which is not a valid {key.Type}: {key.Reason}; fix or remove that row");
            }
            connection.Execute($"ALTER TABLE {table} ALTER {column} TYPE {target} USING CAST({column} AS {target})");
            result[index] = result[index] with { SqlType = target == "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : target };
        }
        return result;
    }

    // The join-key columns whose type differs from the key's (a column the dataframe lacks is reported with the plan's
    // message by ValidateFor).
    private static List<EntityKeyType> KeyConversions(IReadOnlyList<DuckDbColumn> columns, IReadOnlyList<EntityKeyType> keyTypes) =>
        keyTypes.DistinctBy(k => k.EntityColumn).Where(key =>
        {
            var column = columns.FirstOrDefault(c => c.Name == key.EntityColumn);
            if (column is null) return false;
            var current = DuckDbTypeMap.ValueTypeOf(column.SqlType);
            return !(current is { } same && same.IsList == key.Type.IsList && SameFamily(same.Scalar, key.Type.Scalar));
        }).ToList();

    // Integers of any width compare exactly with each other, as do the two float widths; anything else is converted.
    private static bool SameFamily(Definitions.ScalarType a, Definitions.ScalarType b) =>
        a == b || (IsInteger(a) && IsInteger(b)) || (IsFloat(a) && IsFloat(b));

    private static bool IsInteger(Definitions.ScalarType t) => t is Definitions.ScalarType.Int32 or Definitions.ScalarType.Int64;

    private static bool IsFloat(Definitions.ScalarType t) => t is Definitions.ScalarType.Float32 or Definitions.ScalarType.Float64;

    private static string FirstLine(string message) => message.Split('\n', 2)[0];

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
