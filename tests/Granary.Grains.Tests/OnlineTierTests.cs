using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Online;
using Granary.Registry;
using Granary.Serving;

namespace Granary.Grains.Tests;

/// <summary>
/// The online tier on a real three-silo cluster: materialization into the online store, reads through entity grains,
/// checked against a brute-force reference over the same Parquet data. Runs on the embedded SQLite store and on real Redis.
/// </summary>
public abstract class OnlineTierTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _root = Directory.CreateTempSubdirectory("granary-online-").FullName;
    private ThreeSiloCluster _cluster = null!;

    /// <summary>The granary.yaml online_store section for the store under test.</summary>
    protected abstract string OnlineStoreYaml { get; }

    public async Task InitializeAsync()
    {
        var project = "p" + Guid.NewGuid().ToString("N")[..8];
        _cluster = await ThreeSiloCluster.StartAsync(_root, $"project: {project}\n{OnlineStoreYaml}");
        Project = project;
        WriteSourceData();
        await _cluster.Grains.GetGrain<IRegistryGrain>(Project).ApplyAsync(new ApplyRequest(Definitions(), ExpectedVersion: 0, Force: false));
    }

    private string Project { get; set; } = "";

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task After_materialization_every_entity_reads_the_latest_row_of_the_window()
    {
        var (start, end) = (Day, Day.AddHours(20));
        var status = await MaterializeAsync(start, end);
        Assert.Equal(MaterializationRunState.Succeeded, status.State);

        var reference = LatestPerDriver(start, end);
        var response = await ReadAsync(Enumerable.Range(1, 120).Select(d => (long)d).ToArray());
        var drivers = response.Results[0].Values;
        var rates = response.Results[response.FeatureNames.ToList().IndexOf("conv_rate")];
        var matched = 0;
        for (var r = 0; r < drivers.Length; r++)
        {
            var driver = (long)drivers[r]!;
            if (reference.TryGetValue(driver, out var expected))
            {
                Assert.Equal(FeatureStatus.Present, rates.Statuses[r]);
                Assert.Equal(expected.Rate, (double)rates.Values[r]!, 9);
                Assert.Equal(expected.Event, rates.EventTimestamps[r]);
                matched++;
            }
            else
            {
                // Drivers 101..120 have no rows at all; a few others may have none inside the window.
                Assert.Equal(FeatureStatus.NotFound, rates.Statuses[r]);
                Assert.Null(rates.Values[r]);
            }
        }
        Assert.Equal(reference.Count, matched);
        Assert.True(matched >= 90, $"only {matched} drivers had rows in the window; the data generator is off");
        Assert.Equal(status.RowsWritten, reference.Count);
    }

    [Fact]
    public async Task Grains_that_were_active_before_materialization_read_the_materialized_values()
    {
        var before = await ReadAsync([1, 2, 3]);
        Assert.All(before.Results[1].Statuses, s => Assert.Equal(FeatureStatus.NotFound, s));

        await MaterializeAsync(Day, Day.AddHours(23));
        var after = await ReadAsync([1, 2, 3]);
        var reference = LatestPerDriver(Day, Day.AddHours(23));
        for (var r = 0; r < 3; r++) Assert.Equal(reference[r + 1].Rate, (double)after.Results[1].Values[r]!, 9);
    }

    [Fact]
    public async Task A_newer_write_survives_materializing_an_older_window_and_an_older_write_is_ignored()
    {
        var entity = _cluster.Grains.GetGrain<IEntityGrain>(EntityKey.Create(Project, "driver_id", "7").Canonical);
        var newer = Day.AddDays(3);
        Assert.Equal(new[] { true }, await entity.WriteAsync(Write(newer, 0.999)));

        await MaterializeAsync(Day, Day.AddHours(23));
        Assert.Equal(0.999, (double)(await ReadAsync([7])).Results[1].Values[0]!);

        // Older than what is held: refused by the store, whoever writes it.
        Assert.Equal(new[] { false }, await entity.WriteAsync(Write(newer.AddMinutes(-1), 0.5)));
        Assert.Equal(0.999, (double)(await ReadAsync([7])).Results[1].Values[0]!);
    }

    [Fact]
    public async Task Materializing_an_unknown_view_or_a_reversed_window_is_refused_with_a_clear_error()
    {
        var unknown = _cluster.Grains.GetGrain<IMaterializationGrain>($"{Project}/nope");
        var error = await Assert.ThrowsAsync<MaterializationException>(() => unknown.StartAsync(Day, Day.AddDays(1), incremental: false));
        Assert.Contains("has no feature view 'nope'; known: driver_stats", error.Message);

        var reversed = _cluster.Grains.GetGrain<IMaterializationGrain>($"{Project}/driver_stats");
        error = await Assert.ThrowsAsync<MaterializationException>(() => reversed.StartAsync(Day.AddDays(1), Day, incremental: false));
        Assert.Contains("ends (2024-01-01T00:00:00.0000000+00:00) before it starts", error.Message);
    }

    private static EntityWrite Write(DateTimeOffset eventTime, double rate)
        => new([new EntityWriteRow("driver_stats", OnlineTime.ToMicros(eventTime), long.MinValue, ["conv_rate", "trips"], [rate, 1L])]);

    private async Task<MaterializationStatus> MaterializeAsync(DateTimeOffset start, DateTimeOffset end)
    {
        var grain = _cluster.Grains.GetGrain<IMaterializationGrain>($"{Project}/driver_stats");
        var status = await grain.StartAsync(start, end, incremental: false);
        for (var i = 0; i < 1200 && !status.IsFinished; i++)
        {
            await Task.Delay(50);
            status = await grain.GetStatusAsync();
        }
        Assert.True(status.IsFinished, $"materialization still {status.State} after 60 s: {status.PartitionsDone}/{status.Partitions}");
        Assert.Null(status.Error);
        return status;
    }

    private async Task<OnlineFeaturesResponse> ReadAsync(long[] drivers)
    {
        var snapshot = await _cluster.Grains.GetGrain<IRegistryGrain>(Project).GetSnapshotAsync();
        var plan = HistoricalRetrievalPlanner.ForFeatures(snapshot, [FeatureReference.Parse("driver_stats:conv_rate"), FeatureReference.Parse("driver_stats:trips")],
            fullFeatureNames: false, _ => throw new InvalidOperationException("no on-demand views here"));
        var request = new OnlineFeaturesRequest
        {
            Project = Project, Plan = plan,
            Entities = new Dictionary<string, IReadOnlyList<object?>> { ["driver_id"] = drivers.Select(d => (object?)d).ToList() },
        };
        return await OnlineRetrieval.ExecuteAsync(request, new EntityGrainFeatureSource(_cluster.Grains));
    }

    private RegistrySnapshot Definitions() => new()
    {
        Project = Project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources = [new FileSource { Name = "driver_stats_source", Path = "data/driver_stats.parquet", TimestampField = "event_timestamp", CreatedTimestampField = "created" }],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "driver_stats_source", Ttl = TimeSpan.FromDays(3650),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
            },
        ],
    };

    // 100 drivers x 30 rows at pseudo-random seconds of two days, with deliberate ties on the event time (broken by created).
    private void WriteSourceData()
    {
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SET TimeZone = 'UTC';
            COPY (
              SELECT (i % 100) + 1 AS driver_id,
                     TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST((hash(i // 2) % 172800) AS BIGINT)) AS event_timestamp,
                     TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(i AS BIGINT)) AS created,
                     (hash(i * 7919) % 1000000) / 1000000.0 AS conv_rate,
                     CAST(i AS BIGINT) AS trips
              FROM range(3000) t(i)
            ) TO '{Path.Combine(_root, "data", "driver_stats.parquet")}' (FORMAT parquet);
            """;
        command.ExecuteNonQuery();
    }

    // The reference: every row read back, the latest (event, then created) per driver within [start, end], in plain C#.
    private Dictionary<long, (double Rate, DateTimeOffset Event)> LatestPerDriver(DateTimeOffset start, DateTimeOffset end)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT driver_id, epoch_us(event_timestamp), epoch_us(created), conv_rate FROM '{Path.Combine(_root, "data", "driver_stats.parquet")}'";
        using var reader = command.ExecuteReader();
        var best = new Dictionary<long, (long Event, long Created, double Rate)>();
        while (reader.Read())
        {
            var (driver, ev, created, rate) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDouble(3));
            var at = OnlineTime.FromMicros(ev);
            if (at < start || at > end) continue;
            if (!best.TryGetValue(driver, out var held) || ev > held.Event || (ev == held.Event && created > held.Created))
                best[driver] = (ev, created, rate);
        }
        return best.ToDictionary(p => p.Key, p => (p.Value.Rate, OnlineTime.FromMicros(p.Value.Event)));
    }
}

/// <summary>On the embedded default's SQLite online store.</summary>
public sealed class SqliteOnlineTierTests : OnlineTierTests
{
    /// <inheritdoc/>
    protected override string OnlineStoreYaml => "online_store:\n  type: sqlite\n  path: data/online.db\n";
}

/// <summary>On real Redis (GRANARY_TEST_REDIS); project names are unique per test, so runs do not collide.</summary>
public sealed class RedisOnlineTierTests : OnlineTierTests
{
    /// <inheritdoc/>
    protected override string OnlineStoreYaml => $"online_store:\n  type: redis\n  connection_string: {Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379"}\n";
}
