using DuckDB.NET.Data;

namespace Granary.Testing;

/// <summary>
/// Runs SQL in a throwaway in-memory DuckDB with the session time zone UTC: how the tests write their Parquet (and CSV)
/// fixture data, e.g. <c>COPY (SELECT ...) TO '.../drivers.parquet' (FORMAT parquet)</c>.
/// </summary>
public static class DuckDbScript
{
    /// <summary>Runs <paramref name="sql"/> (one or more statements) after <c>SET TimeZone = 'UTC'</c>.</summary>
    public static void Run(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        // UTC, so TIMESTAMPTZ literals and casts mean the same on every machine.
        command.CommandText = "SET TimeZone = 'UTC';\n" + sql;
        command.ExecuteNonQuery();
    }
}
