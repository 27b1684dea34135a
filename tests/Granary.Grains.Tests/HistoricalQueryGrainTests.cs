using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Historical;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Registry;

namespace Granary.Grains.Tests;

/// <summary>
/// Historical jobs on a three-silo cluster: the job grain, the registry grain and the compiled transform live on whichever
/// silos Orleans picks; a silo killed while callers loop on them costs retries, not the registry or the results.
/// </summary>
public sealed class HistoricalQueryGrainTests : IAsyncLifetime
{
    private const string TransformCode = """
        using Granary.Definitions;

        public sealed class RateWithBonus : IOnDemandTransform
        {
            public void Transform(TransformRow row) => row["rate_plus_bonus"] = row.GetDouble("conv_rate") + row.GetInt64("bonus");
        }
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("granary-historical-").FullName;
    private ThreeSiloCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ThreeSiloCluster.StartAsync(_root);
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        using (var connection = new DuckDBConnection("DataSource=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // driver 1: 0.5 before noon, 0.75 after; driver 2: 0.25 before noon. The literals are DECIMAL in DuckDB while the view
            // declares Float64: the transform must still receive doubles (features leave the source as their declared type).
            command.CommandText = $"""
                COPY (SELECT * FROM (VALUES (1, TIMESTAMP '2024-03-01 11:50:00', 0.5), (2, TIMESTAMP '2024-03-01 11:50:00', 0.25),
                                            (1, TIMESTAMP '2024-03-01 12:10:00', 0.75)) t(driver_id, event_timestamp, conv_rate))
                TO '{Path.Combine(_root, "data", "driver_stats.parquet")}' (FORMAT parquet);
                """;
            command.ExecuteNonQuery();
        }
        var definitions = new RegistrySnapshot
        {
            Project = "demo",
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources =
            [
                new FileSource { Name = "driver_stats_source", Path = "data/driver_stats.parquet", TimestampField = "event_timestamp" },
                new RequestSource { Name = "bonus_request", Schema = [new Field("bonus", new(ScalarType.Int64))] },
            ],
            FeatureViews = [new FeatureView { Name = "driver_stats", Entities = ["driver"], Source = "driver_stats_source", Features = [new Field("conv_rate", new(ScalarType.Float64))] }],
            OnDemandFeatureViews = [new OnDemandFeatureView { Name = "with_bonus", Sources = ["driver_stats", "bonus_request"], Transform = "RateWithBonus", Features = [new Field("rate_plus_bonus", new(ScalarType.Float64))] }],
            FeatureServices = [new FeatureService { Name = "model_v1", Projections = [new FeatureViewProjection { View = "driver_stats" }, new FeatureViewProjection { View = "with_bonus" }] }],
            TransformSources = new Dictionary<string, string> { ["transforms/bonus.cs"] = TransformCode },
        };
        await _cluster.Grains.GetGrain<IRegistryGrain>("demo").ApplyAsync(new ApplyRequest(definitions, 0, false));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_job_runs_the_compiled_transform_on_another_silo_and_writes_csv()
    {
        var status = await RunAsync("job-csv", Path.Combine(_root, "out.csv"));

        Assert.True(status.State == HistoricalJobState.Succeeded, status.Error);
        Assert.Equal(["driver_id", "event_timestamp", "bonus", "conv_rate", "rate_plus_bonus"], status.Columns);
        var lines = File.ReadAllLines(status.OutputPath);
        Assert.Equal(4, lines.Length);
        Assert.EndsWith(",10,0.5,10.5", lines[1]);
        Assert.EndsWith(",1,0.25,1.25", lines[2]);
        Assert.EndsWith(",5,,", lines[3]);
    }

    [Fact]
    public async Task An_unknown_feature_fails_start_with_the_typed_error_and_its_message()
    {
        var job = _cluster.Grains.GetGrain<IHistoricalQueryGrain>("job-unknown");
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => job.Start(new HistoricalJobRequest
        {
            Project = "demo", EntitiesPath = "x.csv", Features = ["driver_stats:nope"], OutputPath = Path.Combine(_root, "x.parquet"),
        }));
        Assert.Equal("feature view 'driver_stats' has no feature 'nope'; known: conv_rate", error.Message);
    }

    [Fact]
    public async Task Callers_looping_on_the_registry_and_jobs_succeed_again_after_a_silo_is_killed()
    {
        var registry = _cluster.Grains.GetGrain<IRegistryGrain>("demo");
        var failures = 0;
        var successesAfterKill = 0;
        var killed = false;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var loop = 0;
        while (!stop.IsCancellationRequested && successesAfterKill < 3)
        {
            try
            {
                var snapshot = await registry.GetSnapshotAsync();
                Assert.Equal(1, snapshot.Version);
                var status = await RunAsync($"job-loop-{loop++}", Path.Combine(_root, $"loop-{loop}.csv"));
                Assert.True(status.State == HistoricalJobState.Succeeded, status.Error);
                if (killed) successesAfterKill++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                failures++; // calls in flight to the killed silo fail fast; the next ones are placed elsewhere
                await Task.Delay(200);
            }
            if (!killed && loop == 2)
            {
                await _cluster.Cluster.KillSiloAsync(_cluster.Cluster.Silos[^1]);
                killed = true;
            }
        }
        Assert.True(successesAfterKill >= 3, $"callers did not recover after the kill ({failures} failures)");
        var history = await registry.GetHistoryAsync();
        Assert.Single(history); // the registry is intact: the one version applied
    }

    private async Task<HistoricalJobStatus> RunAsync(string jobId, string output)
    {
        var entities = Path.Combine(_root, "entities.csv");
        if (!File.Exists(entities))
            File.WriteAllText(entities, "driver_id,event_timestamp,bonus\n1,2024-03-01 12:00:00,10\n2,2024-03-01T13:00:00+01:00,1\n3,2024-03-01 12:00:00,5\n");
        var job = _cluster.Grains.GetGrain<IHistoricalQueryGrain>(jobId);
        var status = await job.Start(new HistoricalJobRequest { Project = "demo", EntitiesPath = entities, FeatureService = "model_v1", OutputPath = output });
        for (var i = 0; i < 1200 && !status.IsFinished; i++)
        {
            await Task.Delay(50);
            status = await job.GetStatus();
        }
        return status;
    }
}
