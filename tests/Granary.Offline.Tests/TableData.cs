using DuckDB.NET.Data;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;

namespace Granary.Offline.Tests;

/// <summary>How a test column is stored: the engines' types differ, the test data does not.</summary>
public enum ColumnKind { Int64, Double, String, NaiveTimestamp, ZonedTimestamp }

/// <summary>A small table of test data, written to Parquet (DuckDB) or to a PostgreSQL table.</summary>
public sealed record TableData(IReadOnlyList<(string Name, ColumnKind Kind)> Columns, List<object?[]> Rows)
{
    public int Ordinal(string name) => Columns.ToList().FindIndex(c => c.Name == name);

    public static string DuckDbType(ColumnKind kind) => kind switch
    {
        ColumnKind.Int64 => "BIGINT",
        ColumnKind.Double => "DOUBLE",
        ColumnKind.String => "VARCHAR",
        ColumnKind.NaiveTimestamp => "TIMESTAMP",
        _ => "TIMESTAMPTZ",
    };

    /// <summary>Writes the rows to a Parquet file through a DuckDB table filled by the appender.</summary>
    public void WriteParquet(DuckDBConnection connection, string path)
    {
        var table = "t_" + Guid.NewGuid().ToString("N");
        connection.Execute($"CREATE TEMP TABLE {table} ({string.Join(", ", Columns.Select(c => $"{Sql.Identifier(c.Name)} {DuckDbType(c.Kind)}"))})");
        using (var appender = connection.CreateAppender(table))
        {
            foreach (var row in Rows)
            {
                var appended = appender.CreateRow();
                foreach (var value in row) DuckDbTypeMap.Append(appended, value);
                appended.EndRow();
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        connection.Execute($"COPY {table} TO {Sql.Literal(path)} (FORMAT parquet); DROP TABLE {table};");
    }

    /// <summary>Reads a whole (small) output file for assertions.</summary>
    public static (List<string> Columns, List<object?[]> Rows) ReadFile(DuckDBConnection connection, string path)
    {
        var reader = path.EndsWith(".csv", StringComparison.Ordinal) ? $"read_csv({Sql.Literal(path)}, header = true)" : $"read_parquet({Sql.Literal(path)})";
        using var rows = connection.QueryRows($"SELECT * FROM {reader}");
        var columns = Enumerable.Range(0, rows.FieldCount).Select(rows.GetName).ToList();
        var list = new List<object?[]>();
        while (rows.Read()) list.Add(rows.GetValues());
        return (columns, list);
    }
}
