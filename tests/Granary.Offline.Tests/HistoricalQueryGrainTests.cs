using Granary.Definitions;
using Granary.Grains.Historical;
using Granary.Offline;
using Granary.Grains.Registry;
using Granary.Offline.DuckDb;
using Granary.Registry.Sql;
using Granary.Runtime;
using Granary.Runtime.Hosting;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>The historical query grain in a real silo: registry from SQLite, transforms compiled by Roslyn, DuckDB store.</summary>
public sealed class HistoricalQueryGrainTests : IAsyncLifetime
{
    private const string TransformCode = """
        using Granary.Definitions;

        public sealed class RateWithBonus : IOnDemandTransform
        {
            public void Transform(TransformRow row) => row["rate_plus_bonus"] = row.GetDouble("conv_rate") + row.GetInt64("bonus");
        }
        """;

    private static readonly DateTime T0 = new(2024, 3, 1, 12, 0, 0);
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-historical-").FullName;
    private IHost _host = null!;
    private IGrainFactory _grains = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(TimeProvider.System);
        var registryStore = new SqliteRegistryStore(Path.Combine(_folder, "registry.db"));
        await registryStore.InitializeAsync();
        builder.Services.AddSingleton<IRegistryStore>(registryStore);
        builder.Services.AddSingleton<TransformCatalog>();
        builder.Services.AddSingleton<RegistryService>();
        builder.Services.AddSingleton<IFeatureDefinitionSource, RegistryFeatureDefinitionSource>();
        builder.Services.AddSingleton<IOfflineStore>(new DuckDbOfflineStore(new DuckDbOfflineStoreOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 }));
        builder.Services.AddSingleton<OfflineStoreSelector>();
        builder.UseGranary(silo => silo.AddMemoryGrainStorageAsDefault().AddGrain<HistoricalQueryGrain>());
        _host = builder.Build();
        await _host.StartAsync();
        _grains = _host.Services.GetRequiredService<IGrainFactory>();

        var store = (DuckDbOfflineStore)_host.Services.GetRequiredService<IOfflineStore>();
        using (var connection = store.Connect())
        {
            new TableData([("driver_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("conv_rate", ColumnKind.Double)],
                [[1L, T0.AddMinutes(-10), 0.5], [2L, T0.AddMinutes(-10), 0.25], [1L, T0.AddMinutes(10), 0.75]])
                .WriteParquet(connection, Path.Combine(_folder, "data", "driver_stats.parquet"));
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
        await _host.Services.GetRequiredService<RegistryService>().ApplyAsync("demo", new ApplyRequest(definitions, null, false));
    }

    private async Task<HistoricalJobStatus> WaitAsync(IHistoricalQueryGrain job)
    {
        var status = await job.GetStatus();
        for (var i = 0; i < 600 && !status.IsFinished; i++)
        {
            await Task.Delay(50);
            status = await job.GetStatus();
        }
        return status;
    }

    [Fact]
    public async Task A_job_over_a_csv_file_runs_the_compiled_transform_and_reports_counts()
    {
        var entities = Path.Combine(_folder, "entities.csv");
        File.WriteAllText(entities, "driver_id,event_timestamp,bonus\n1,2024-03-01 12:00:00,10\n2,2024-03-01T13:00:00+01:00,1\n3,2024-03-01 12:00:00,5\n");
        var job = _grains.GetGrain<IHistoricalQueryGrain>("job-csv");
        var started = await job.Start(new HistoricalJobRequest { Project = "demo", EntitiesPath = entities, FeatureService = "model_v1", OutputPath = Path.Combine(_folder, "out", "training.parquet") });
        Assert.Equal(HistoricalJobState.Running, started.State);

        var status = await WaitAsync(job);
        Assert.Equal(HistoricalJobState.Succeeded, status.State);
        Assert.Equal(3, status.EntityRows);
        Assert.Equal(3, status.OutputRows);
        Assert.Equal(["driver_id", "event_timestamp", "bonus", "conv_rate", "rate_plus_bonus"], status.Columns);

        using var store = new DuckDbOfflineStore();
        using var connection = store.Connect();
        var (_, rows) = TableData.ReadFile(connection, status.OutputPath);
        Assert.Equal([0.5, 0.25, null], rows.Select(r => r[3]).ToArray());
        Assert.Equal([10.5, 1.25, null], rows.Select(r => r[4]).ToArray());

        // Starting the same job again does not rerun it.
        Assert.Equal(HistoricalJobState.Succeeded, (await job.Start(new HistoricalJobRequest { Project = "demo", EntitiesPath = entities, FeatureService = "model_v1", OutputPath = "elsewhere.csv" })).State);
    }

    [Fact]
    public async Task A_job_with_inline_rows_writes_csv()
    {
        var job = _grains.GetGrain<IHistoricalQueryGrain>("job-inline");
        await job.Start(new HistoricalJobRequest
        {
            Project = "demo",
            InlineEntities =
            [
                new InlineEntityColumn { Name = "driver_id", Type = ScalarType.Int64, Values = ["1", "1"] },
                new InlineEntityColumn { Name = "event_timestamp", Type = ScalarType.UnixTimestamp, Values = ["2024-03-01T12:05:00Z", "2024-03-01 12:30:00"] },
            ],
            Features = ["driver_stats:conv_rate"],
            FullFeatureNames = true,
            OutputPath = Path.Combine(_folder, "inline.csv"),
        });
        var status = await WaitAsync(job);
        Assert.Equal(HistoricalJobState.Succeeded, status.State);
        var lines = File.ReadAllLines(status.OutputPath);
        Assert.Equal("driver_id,event_timestamp,driver_stats__conv_rate", lines[0]);
        Assert.EndsWith(",0.5", lines[1]);
        Assert.EndsWith(",0.75", lines[2]);
    }

    [Fact]
    public async Task Bad_requests_fail_start_or_the_job_with_a_clear_error()
    {
        var unknown = _grains.GetGrain<IHistoricalQueryGrain>("job-unknown");
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => unknown.Start(new HistoricalJobRequest
        {
            Project = "demo", EntitiesPath = "x.csv", Features = ["driver_stats:nope"], OutputPath = Path.Combine(_folder, "x.parquet"),
        }));
        Assert.Equal("feature view 'driver_stats' has no feature 'nope'; known: conv_rate", error.Message);

        var entities = Path.Combine(_folder, "no-time.csv");
        File.WriteAllText(entities, "driver_id,bonus\n1,2\n");
        var noTime = _grains.GetGrain<IHistoricalQueryGrain>("job-no-time");
        await noTime.Start(new HistoricalJobRequest { Project = "demo", EntitiesPath = entities, Features = ["driver_stats:conv_rate"], OutputPath = Path.Combine(_folder, "y.parquet") });
        var status = await WaitAsync(noTime);
        Assert.Equal(HistoricalJobState.Failed, status.State);
        Assert.Equal("entity dataframe has no timestamp column: add an 'event_timestamp' column (columns: driver_id, bonus)", status.Error);
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
