using Microsoft.Extensions.DependencyInjection;
using Granary.Definitions;
using Granary.Grains.Erasure;
using Granary.Grains.Historical;
using Granary.Grains.Online;
using Granary.Grains.Push;
using Granary.Online;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Runtime;

namespace Granary.Cluster.Tests;

/// <summary>
/// Erasure across three Granary silo processes on Redis (online store, a redis-server of the test's own) and PostgreSQL
/// (registry with the tombstones, offline store, membership, audit log): drivers pushed online and into a PostgreSQL table,
/// trips materialized from a table Granary does not write, every silo's cache warmed; then one driver erased through one
/// silo, and every silo answers NOT_FOUND for it while the others are unchanged, its pushed rows are deleted from the table,
/// and neither a re-materialization nor a replayed push brings it back.
/// </summary>
public sealed class ErasureClusterTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly EntityReadRequest Read = new(["speed", "trips"], [["speed"], ["trips"]]);
    private readonly TestDatabase _database = new();
    private readonly RedisServerProcess _redis = new(durable: false);
    private readonly string _clusterId = "erasure-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _project = "er" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _repo = Directory.CreateTempSubdirectory("granary-erasure-cluster-").FullName;
    private readonly List<SiloProcess> _silos = [];
    private IHost? _client;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        Execute("""
            CREATE TABLE erasure_speeds (driver_id BIGINT NOT NULL, event_timestamp TIMESTAMPTZ NOT NULL, speed DOUBLE PRECISION);
            CREATE TABLE erasure_trips (driver_id BIGINT NOT NULL, event_timestamp TIMESTAMPTZ NOT NULL, trips BIGINT);
            INSERT INTO erasure_trips SELECT i, TIMESTAMPTZ '2024-03-01 06:00:00+00', i * 10 FROM generate_series(1, 6) i;
            """);
        await File.WriteAllTextAsync(Path.Combine(_repo, "granary.yaml"), $"""
            project: {_project}
            registry:
              type: postgres
              connection_string: "{_database.ConnectionString}"
            offline_store:
              type: postgres
              connection_string: "{_database.ConnectionString}"
            online_store:
              type: redis
              connection_string: "{_redis.Endpoint}"

            """);
        await SiloProcesses.StartOneByOneAsync(_silos, _database, _clusterId, _repo, 3, TimeSpan.FromSeconds(120));
        _client = await InProcessSilos.StartPostgresClientAsync(_clusterId, _database.ConnectionString,
            client => client.Services.Configure<Granary.Grains.Client.ClusterClientTimingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30)));
        await StatsRepository.ApplyAsync(_client.Grains(), _project, Definitions());
    }

    public async Task DisposeAsync()
    {
        if (_client is not null) await InProcessSilos.StopAllAsync([_client]);
        _silos.ForEach(s => s.Dispose());
        await _redis.DisposeAsync();
        _database.Dispose();
        try { Directory.Delete(_repo, recursive: true); } catch (IOException) { }
    }

    private RegistrySnapshot Definitions() => new()
    {
        Project = _project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new PostgresSource { Name = "speeds_table", Table = "erasure_speeds", TimestampField = "event_timestamp" },
            new PushSource { Name = "speed_push", BatchSource = "speeds_table" },
            new PostgresSource { Name = "trips_table", Table = "erasure_trips", TimestampField = "event_timestamp" },
        ],
        FeatureViews =
        [
            new FeatureView { Name = "speed", Entities = ["driver"], Source = "speed_push", Ttl = TimeSpan.FromDays(3650), Features = [new Field("speed", new(ScalarType.Float64))] },
            new FeatureView { Name = "trips", Entities = ["driver"], Source = "trips_table", Ttl = TimeSpan.FromDays(3650), Features = [new Field("trips", new(ScalarType.Int64))] },
        ],
    };

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(_database.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private Task PushAsync(IGrainFactory grains, IEnumerable<long> drivers, DateTimeOffset at)
        => grains.GetGrain<IPushGrain>($"{_project}/speed_push").PushAsync(new PushRequest(["driver_id", "event_timestamp", "speed"],
            drivers.Select(d => new object?[] { d, at, d + 0.5 }).ToArray(), PushMode.OnlineAndOffline));

    /// <summary>Reads the drivers through each active silo's reader (the per-silo grain the grouped read uses): statuses per silo, driver, view.</summary>
    private async Task<List<FeatureStatus[]>> ReadOnEverySiloAsync(IGrainFactory grains, long[] drivers)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(3, hosts.Count);
        var entities = drivers.Select(d => EntityKey.Create(_project, "driver_id", d.ToString(System.Globalization.CultureInfo.InvariantCulture)).Canonical).ToArray();
        var answers = new List<FeatureStatus[]>();
        foreach (var silo in hosts.Keys)
        {
            var reply = await grains.GetGrain<ISiloOnlineCacheGrain>(silo.ToParsableString()).ReadAsync(new EntityBatchRead(_project, entities, Read));
            answers.Add(reply.Statuses.Select(s => (FeatureStatus)s).ToArray());
        }
        return answers;
    }

    /// <summary>Point-in-time speeds of <paramref name="drivers"/> an hour after the push, through a historical job on the cluster (null when none).</summary>
    private async Task<Dictionary<long, double?>> HistoricalSpeedsAsync(IGrainFactory grains, long[] drivers)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var entities = Path.Combine(_repo, $"entities-{id}.csv");
        await File.WriteAllTextAsync(entities, "driver_id,event_timestamp\n" + string.Concat(drivers.Select(d => $"{d},2024-03-01 09:00:00\n")));
        var job = grains.GetGrain<IHistoricalQueryGrain>($"erasure-{id}");
        var status = await job.Start(new HistoricalJobRequest { Project = _project, EntitiesPath = entities, Features = ["speed:speed"], OutputPath = Path.Combine(_repo, $"out-{id}.parquet") });
        await Eventually.WaitUntil(async () => (status = await job.GetStatus()).IsFinished, TimeSpan.FromSeconds(60), "the historical job to finish");
        Assert.True(status.State == HistoricalJobState.Succeeded, status.Error);
        var speeds = new Dictionary<long, double?>();
        await foreach (var chunk in job.ReadRows(1000))
        {
            var driver = chunk.Columns[chunk.ColumnNames.ToList().IndexOf("driver_id")];
            var speed = chunk.Columns[chunk.ColumnNames.ToList().IndexOf("speed")];
            for (var r = 0; r < driver.Length; r++) speeds[Convert.ToInt64(driver[r])] = speed[r] is null ? null : Convert.ToDouble(speed[r]);
        }
        return speeds;
    }

    private List<(long Driver, long Rows)> PushedRows()
    {
        using var connection = new NpgsqlConnection(_database.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT driver_id, count(*) FROM erasure_speeds GROUP BY driver_id ORDER BY driver_id", connection);
        using var reader = command.ExecuteReader();
        var rows = new List<(long, long)>();
        while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetInt64(1)));
        return rows;
    }

    [Fact]
    public async Task An_entity_erased_through_one_silo_is_not_found_on_every_silo_and_stays_gone()
    {
        var grains = _client!.Grains();
        long[] drivers = [1, 2, 3, 4];
        const long erased = 3;
        await PushAsync(grains, drivers, Day.AddHours(8));
        await GrainFixtures.MaterializeAsync(grains, _project, "trips", Day.AddDays(-1), Day.AddDays(1));
        // Every silo reads every driver: the owners' grains are active and their caches hold both views.
        foreach (var answer in await ReadOnEverySiloAsync(grains, drivers)) Assert.All(answer, s => Assert.Equal(FeatureStatus.Present, s));
        Assert.Equal(3.5, (await HistoricalSpeedsAsync(grains, drivers))[erased]);

        var report = await grains.GetGrain<IErasureGrain>(_project).EraseAsync(
            new ErasureRequest(["driver_id"], ["3"], [], new ErasureCaller("cluster-test", "local", "test erase", "")));

        Assert.Equal(3, report.SilosTold);
        Assert.Equal(1, report.CachedEntities);
        Assert.Contains(report.Places, p => p is { Kind: ErasedPlace.OnlineStore, Location: "redis", Rows: 2 });
        Assert.Contains(report.Places, p => p is { Kind: ErasedPlace.OfflineStore, Name: "speeds_table", Location: "postgres table erasure_speeds", Rows: 1 });
        Assert.Contains(report.Places, p => p is { Kind: ErasedPlace.Upstream, Name: "trips_table" });
        var expected = drivers.SelectMany(d => d == erased ? new[] { FeatureStatus.NotFound, FeatureStatus.NotFound } : [FeatureStatus.Present, FeatureStatus.Present]).ToArray();
        foreach (var answer in await ReadOnEverySiloAsync(grains, drivers)) Assert.Equal(expected, answer);
        Assert.Equal([(1L, 1L), (2L, 1L), (4L, 1L)], PushedRows());
        var historical = await HistoricalSpeedsAsync(grains, drivers);
        Assert.Null(historical[erased]);
        foreach (var d in drivers.Where(d => d != erased)) Assert.Equal(d + 0.5, historical[d]);

        // The upstream table still holds driver 3; materializing it again, and replaying the old push, bring nothing back.
        await GrainFixtures.MaterializeAsync(grains, _project, "trips", Day.AddDays(-1), Day.AddDays(1));
        await PushAsync(grains, [erased], Day.AddHours(8));
        foreach (var answer in await ReadOnEverySiloAsync(grains, drivers)) Assert.Equal(expected, answer);
        Assert.Equal([(1L, 1L), (2L, 1L), (4L, 1L)], PushedRows());

        // A later event of the driver is new data: accepted and served on every silo.
        await PushAsync(grains, [erased], report.ErasedAt.AddSeconds(1));
        foreach (var answer in await ReadOnEverySiloAsync(grains, [erased])) Assert.Equal([FeatureStatus.Present, FeatureStatus.NotFound], answer);

        // The audit log (the registry's PostgreSQL) holds one ERASE record per view, with the key's hash and no key.
        var details = _database.Query<string>("SELECT object_name || ' ' || detail FROM granary_audit WHERE action = 'ERASE' ORDER BY object_name");
        Assert.Equal(2, details.Count);
        Assert.All(details, d => Assert.Contains("key_hash=" + report.KeyHash, d));
        Assert.StartsWith("speed ", details[0]);
        Assert.Contains("offline_store speeds_table=1", details[0]);
        Assert.Equal(2, _database.Query<long>($"SELECT count(*) FROM granary_erasure_tombstones WHERE project = '{_project}' AND key_hash = '{report.KeyHash}'").Single());
    }
}
