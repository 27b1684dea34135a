using Npgsql;
using NpgsqlTypes;

namespace Granary.Offline.Tests;

/// <summary>A fresh PostgreSQL schema for one test class on the shared test server; dropped afterwards.</summary>
public sealed class PostgresSchemaFixture : IDisposable
{
    public PostgresSchemaFixture()
    {
        ConnectionString = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES")
            ?? throw new InvalidOperationException("GRANARY_TEST_POSTGRES is not set: run `deploy/test-services.sh start` and `eval \"$(deploy/test-services.sh env)\"` before the tests");
        Schema = "granary_offline_" + Guid.NewGuid().ToString("N")[..12];
        Execute($"CREATE SCHEMA {Schema}");
    }

    public string ConnectionString { get; }
    public string Schema { get; }

    public void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Creates <c>schema.table</c> with the test data (binary COPY) and returns its qualified name.</summary>
    public string CreateTable(string table, TableData data)
    {
        var name = $"{Schema}.{table}";
        static string TypeOf(ColumnKind kind) => kind switch
        {
            ColumnKind.Int64 => "bigint",
            ColumnKind.Double => "double precision",
            ColumnKind.String => "text",
            ColumnKind.NaiveTimestamp => "timestamp",
            _ => "timestamptz",
        };
        Execute($"CREATE TABLE {name} ({string.Join(", ", data.Columns.Select(c => $"\"{c.Name}\" {TypeOf(c.Kind)}"))})");
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var writer = connection.BeginBinaryImport($"COPY {name} FROM STDIN (FORMAT BINARY)");
        foreach (var row in data.Rows)
        {
            writer.StartRow();
            for (var i = 0; i < row.Length; i++)
            {
                switch (row[i])
                {
                    case null: writer.WriteNull(); break;
                    case DateTimeOffset t: writer.Write(t.UtcDateTime, NpgsqlDbType.TimestampTz); break;
                    case DateTime t: writer.Write(DateTime.SpecifyKind(t, DateTimeKind.Unspecified), NpgsqlDbType.Timestamp); break;
                    case var value: writer.Write(value); break;
                }
            }
        }
        writer.Complete();
        return name;
    }

    public void Dispose() => Execute($"DROP SCHEMA IF EXISTS {Schema} CASCADE");
}
