using Npgsql;

namespace Granary.Cluster.Tests;

/// <summary>A fresh PostgreSQL database for one test, dropped afterwards. Needs GRANARY_TEST_POSTGRES.</summary>
public sealed class TestDatabase : IDisposable
{
    public TestDatabase()
    {
        var server = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            throw new InvalidOperationException(
                "GRANARY_TEST_POSTGRES is not set; run `eval \"$(deploy/test-services.sh start)\"` before the cluster tests.");
        }
        ServerConnectionString = server;
        Name = "granary_cluster_" + Guid.NewGuid().ToString("N")[..16];
        Execute(server, $"CREATE DATABASE {Name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
    }

    public string ServerConnectionString { get; }
    public string Name { get; }
    public string ConnectionString { get; }

    /// <summary>Runs a query in this database and answers its first column, row by row.</summary>
    public List<T> Query<T>(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(reader.GetFieldValue<T>(0));
        return rows;
    }

    /// <summary>Like <see cref="Query{T}"/>, but no rows while the silos have not created the table yet.</summary>
    public List<T> QueryOrEmpty<T>(string sql)
    {
        try
        {
            return Query<T>(sql);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(ServerConnectionString, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
