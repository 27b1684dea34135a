using Npgsql;

namespace Granary.Registry.Tests;

/// <summary>A fresh PostgreSQL database for one test class, on the server named by GRANARY_TEST_POSTGRES; dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private string? _adminConnectionString;

    public string ConnectionString { get; private set; } = "";
    public string Name { get; } = "granary_registry_" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync()
    {
        _adminConnectionString = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES")
            ?? throw new InvalidOperationException("GRANARY_TEST_POSTGRES is not set: run `eval \"$(deploy/test-services.sh start)\"` (deploy/test-services.sh start) before these tests.");
        await using (var connection = new NpgsqlConnection(_adminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {Name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = Name, Pooling = true }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_adminConnectionString is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
