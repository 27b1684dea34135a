using Npgsql;

namespace Granary.Cluster.Tests;

/// <summary>A fresh PostgreSQL database for one test class, dropped afterwards. Needs GRANARY_TEST_POSTGRES.</summary>
public sealed class TestDatabase : IDisposable
{
    public TestDatabase()
    {
        var server = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            throw new InvalidOperationException(
                "GRANARY_TEST_POSTGRES is not set; run `eval \"$(deploy/test-services.sh start)\"` (deploy/test-services.sh start) before the cluster tests.");
        }
        ServerConnectionString = server;
        Name = "granary_cluster_" + Guid.NewGuid().ToString("N")[..16];
        using (var connection = new NpgsqlConnection(server))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {Name}", connection);
            create.ExecuteNonQuery();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
    }

    public string ServerConnectionString { get; }
    public string Name { get; }
    public string ConnectionString { get; }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(ServerConnectionString);
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        drop.ExecuteNonQuery();
    }
}
