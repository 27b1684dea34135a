using System.Reflection;
using Granary.Clustering.PostgreSql;
using Orleans.Configuration;

namespace Granary.Cluster.Tests;

/// <summary>Granary's PostgreSQL schema for Orleans' ADO.NET providers, applied to real PostgreSQL.</summary>
public sealed class SchemaTests : IDisposable
{
    private readonly TestDatabase database = new();

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task Applying_the_schema_twice_leaves_one_copy_of_every_query()
    {
        await PostgresOrleansSchema.ApplyAsync(database.ConnectionString);
        await PostgresOrleansSchema.ApplyAsync(database.ConnectionString);

        var keys = database.Query<string>("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey");
        Assert.Equal(PostgresOrleansSchema.QueryKeys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Eight_silos_applying_the_schema_at_once_all_succeed()
    {
        // Without the advisory lock, concurrent CREATE TABLE IF NOT EXISTS fails on PostgreSQL's catalog constraints.
        var applies = Enumerable.Range(0, 8).Select(_ => Task.Run(() => PostgresOrleansSchema.ApplyAsync(database.ConnectionString)));
        await Task.WhenAll(applies);

        Assert.Equal(PostgresOrleansSchema.QueryKeys.Count, database.Query<long>("SELECT count(*) FROM OrleansQuery").Single());
        Assert.Equal(3, database.Query<long>(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('granary_membership', 'granary_membership_version', 'granary_reminders')").Single());
    }

    [Fact]
    public void The_schema_has_every_query_key_the_Orleans_10_4_2_providers_require()
    {
        // The providers refuse to start unless every key their internal DbStoredQueries class names is present; read
        // those names off the shipped assemblies so an Orleans upgrade that adds a query fails here, not in production.
        static IEnumerable<string> RequiredKeys(Assembly providers, string typeName) =>
            providers.GetType(typeName, throwOnError: true)!
                .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic)
                .Select(p => p.Name);

        var clustering = RequiredKeys(typeof(AdoNetClusteringSiloOptions).Assembly, "Orleans.Clustering.AdoNet.Storage.DbStoredQueries");
        var reminders = RequiredKeys(typeof(AdoNetReminderTableOptions).Assembly, "Orleans.Reminders.AdoNet.Storage.DbStoredQueries");

        // The 10.4.2 assembly also names CleanupDefunctSiloEntryKey (delete one Dead row, matched on the values read)
        // outside its required set; the schema provides it too, so whichever clean-up form the provider runs exists.
        var optional = new[] { "CleanupDefunctSiloEntryKey" };
        Assert.Equal(
            clustering.Concat(reminders).Concat(optional).Order(StringComparer.Ordinal),
            PostgresOrleansSchema.QueryKeys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_wrong_connection_string_is_named_with_the_fix()
    {
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => PostgresOrleansSchema.ApplyAsync(" "));
        Assert.Contains("connection string for Orleans membership is empty", empty.Message);

        var unreachable = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = FreePorts.Take(1)[0], Timeout = 2 }.ConnectionString;
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresOrleansSchema.ApplyAsync(unreachable));
        Assert.Contains($"database '{database.Name}' on 127.0.0.1:", refused.Message);
        Assert.Contains("Check that the server runs", refused.Message);
    }
}
