using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Registry;
using Microsoft.Extensions.Hosting;

namespace Granary.Cluster.Tests;

/// <summary>The small repository the cluster's push and read tests serve: drivers' trips, pushed through a push source.</summary>
internal static class StatsRepository
{
    /// <summary>Applies <paramref name="definitions"/> (default <see cref="Definitions"/>) as version 1 through <paramref name="grains"/>, retrying while the cluster settles.</summary>
    public static async Task ApplyAsync(IGrainFactory grains, string project, RegistrySnapshot? definitions = null)
    {
        Exception? lastError = null;
        try
        {
            await Eventually.WaitUntil(async () =>
            {
                try
                {
                    await grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(definitions ?? Definitions(project), ExpectedVersion: 0, Force: false));
                    return true;
                }
                catch (Exception e)
                {
                    lastError = e;
                    // A call that timed out may still have applied: then the registry is at version 1 and a retry would conflict.
                    try { return (await grains.GetGrain<IRegistryGrain>(project).GetSnapshotAsync()).Version >= 1; }
                    catch (Exception) { return false; }
                }
            }, TimeSpan.FromSeconds(60), "the cluster to take the registry");
        }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException($"apply kept failing: {lastError}", e);
        }
    }

    /// <summary>Applies <see cref="Definitions"/> through an Orleans client of its own, stopped afterwards.</summary>
    public static async Task ApplyAsync(string clusterId, string connectionString, string project)
    {
        var client = await InProcessSilos.StartPostgresClientAsync(clusterId, connectionString);
        try
        {
            await ApplyAsync(client.Grains(), project);
        }
        finally
        {
            await InProcessSilos.StopAllAsync([client]);
        }
    }

    /// <summary>Project <paramref name="project"/>: entity driver (driver_id), push source stats_push, view stats (trips Int64).</summary>
    public static RegistrySnapshot Definitions(string project) => new()
    {
        Project = project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new FileSource { Name = "stats_batch", Path = "data/stats", TimestampField = "event_timestamp" },
            new PushSource { Name = "stats_push", BatchSource = "stats_batch" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "stats", Entities = ["driver"], Source = "stats_push", Ttl = TimeSpan.FromDays(3650),
                Features = [new Field("trips", new(ScalarType.Int64))],
            },
        ],
    };

    /// <summary>The batch source's schema comes from its files: one Parquet file with one row under <paramref name="repo"/>/data/stats.</summary>
    public static void WriteBatchSourceSchema(string repo)
    {
        var folder = Path.Combine(repo, "data", "stats");
        Directory.CreateDirectory(folder);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SET TimeZone = 'UTC';
            COPY (SELECT 0::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0::BIGINT AS trips)
            TO '{Path.Combine(folder, "history.parquet")}' (FORMAT parquet);
            """;
        command.ExecuteNonQuery();
    }
}
