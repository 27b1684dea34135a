using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Historical;
using Granary.Grains.Online;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Online;
using Granary.Push;
using Granary.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Grains.Tests;

/// <summary>
/// Pushes on a real three-silo cluster: validation against the views' schema, event-id deduplication across silos and
/// restarts, online writes through the entity grains (newest-wins), offline appends seen by historical retrieval.
/// Runs on the embedded SQLite online store and on real Redis.
/// </summary>
public abstract class PushTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    internal static readonly string[] Columns = ["driver_id", "event_timestamp", "created", "conv_rate", "trips", "event_id"];
    private readonly string _root = Directory.CreateTempSubdirectory("granary-push-").FullName;
    private ThreeSiloCluster _cluster = null!;
    private string _project = "";

    /// <summary>The granary.yaml online_store section for the store under test.</summary>
    protected abstract string OnlineStoreYaml { get; }

    public async Task InitializeAsync()
    {
        _project = "p" + Guid.NewGuid().ToString("N")[..8];
        _cluster = await ThreeSiloCluster.StartAsync(_root, $"project: {_project}\n{OnlineStoreYaml}");
        WriteHistory(_root);
        await _cluster.Grains.GetGrain<IRegistryGrain>(_project).ApplyAsync(new ApplyRequest(Definitions(_project), ExpectedVersion: 0, Force: false));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_duplicate_event_is_counted_once_also_when_sent_through_two_silos()
    {
        var batch = Batch(Row(11, Day.AddHours(1), 0.5, 3, "e-1"), Row(12, Day.AddHours(1), 0.6, 4, "e-2"), Row(11, Day.AddHours(2), 0.7, 5, "e-1"));
        var first = await PushAsync(SiloGrains(0), batch, PushMode.OnlineAndOffline);
        // The third row repeats e-1 within the batch: dropped like any duplicate.
        Assert.Equal(new PushResult(3, 2, 1, 0, 2, 2), first);

        var again = await PushAsync(SiloGrains(1), batch, PushMode.OnlineAndOffline);
        Assert.Equal(new PushResult(3, 0, 3, 0, 0, 0), again);

        Assert.Equal(0.5, (await ReadAsync(11)).Rate);
        Assert.Equal(2, CountOfflineRows("e-%"));
    }

    [Fact]
    public async Task A_duplicate_event_is_dropped_after_the_whole_cluster_restarts()
    {
        var batch = Batch(Row(21, Day.AddHours(1), 0.25, 1, "r-1"));
        Assert.Equal(1, (await PushAsync(_cluster.Grains, batch, PushMode.OnlineAndOffline)).RowsAccepted);

        await _cluster.DisposeAsync();
        _cluster = await ThreeSiloCluster.StartAsync(_root);

        var again = await PushAsync(_cluster.Grains, Batch(Row(21, Day.AddHours(5), 0.99, 9, "r-1"), Row(22, Day.AddHours(5), 0.3, 2, "r-2")), PushMode.OnlineAndOffline);
        Assert.Equal(new PushResult(2, 1, 1, 0, 1, 1), again);
        Assert.Equal(0.25, (await ReadAsync(21)).Rate);
        Assert.Equal(2, CountOfflineRows("r-%"));
    }

    [Fact]
    public async Task A_silo_restart_keeps_the_claims()
    {
        var batch = Batch(Row(23, Day.AddHours(1), 0.25, 1, "s-1"));
        Assert.Equal(1, (await PushAsync(SiloGrains(2), batch, PushMode.Online)).RowsAccepted);
        var restarted = await _cluster.Cluster.RestartSiloAsync(_cluster.Cluster.Silos[2]);
        var grains = restarted!.ServiceProvider.GetRequiredService<IGrainFactory>();
        Assert.Equal(1, (await PushAsync(grains, batch, PushMode.Online)).DuplicatesDropped);
    }

    [Fact]
    public async Task A_rejected_batch_leaves_nothing_online_or_offline_and_claims_no_event_id()
    {
        var batch = Batch(
            Row(31, Day.AddHours(1), 0.5, 3, "x-1"),
            ["32", "2024-01-01T01:00:00Z", null, "0.5", "abc", "x-2"],
            ["33", "yesterday", null, "0.5", "1", "x-3"],
            ["", "2024-01-01T01:00:00Z", null, "1,5", "1", "x-4"]);
        var error = await Assert.ThrowsAsync<PushValidationException>(() => PushAsync(_cluster.Grains, batch, PushMode.OnlineAndOffline));

        Assert.StartsWith($"push to 'driver_stats_push' rejected: 4 problems; nothing was stored", error.Message);
        Assert.Contains("row 2, column 'trips': value 'abc' is not a whole number in range; expected Int64 (feature view 'driver_stats')", error.Message);
        Assert.Contains("row 3, column 'event_timestamp': value 'yesterday' is not an ISO 8601 timestamp", error.Message);
        Assert.Contains("row 4, column 'driver_id': value '' is not a whole number in range; expected Int64 (entity 'driver')", error.Message);
        Assert.Contains("row 4, column 'conv_rate': value '1,5' is not a number (use '.' for decimals); expected Float64 (feature view 'driver_stats')", error.Message);
        Assert.Equal(4, error.Errors.Count);

        Assert.Equal(FeatureStatus.NotFound, (await ReadAsync(31)).Status);
        Assert.Equal(0, CountOfflineRows("x-%"));
        Assert.Single(Directory.GetFiles(Path.Combine(_root, "data", "driver_stats")));

        // The ids of the rejected batch were never claimed: the corrected batch is stored in full.
        var fixedBatch = Batch(Row(31, Day.AddHours(1), 0.5, 3, "x-1"), Row(32, Day.AddHours(1), 0.5, 7, "x-2"));
        Assert.Equal(2, (await PushAsync(_cluster.Grains, fixedBatch, PushMode.OnlineAndOffline)).RowsAccepted);
    }

    [Fact]
    public async Task A_push_whose_offline_append_fails_releases_its_event_ids_so_the_retry_is_stored()
    {
        // The batch source's folder is replaced by a file that is not Parquet: the append fails after the ids were claimed.
        var folder = Path.Combine(_root, "data", "driver_stats");
        var saved = Path.Combine(_root, "saved");
        Directory.Move(folder, saved);
        await File.WriteAllTextAsync(folder, "not parquet");
        var batch = Batch(Row(61, Day.AddHours(1), 0.5, 1, "f-1"));
        await Assert.ThrowsAnyAsync<Exception>(() => PushAsync(_cluster.Grains, batch, PushMode.OnlineAndOffline));

        File.Delete(folder);
        Directory.Move(saved, folder);
        Assert.Equal(new PushResult(1, 1, 0, 0, 1, 1), await PushAsync(_cluster.Grains, batch, PushMode.OnlineAndOffline));
    }

    [Fact]
    public async Task Missing_and_unknown_columns_are_named_with_the_expected_schema()
    {
        var error = await Assert.ThrowsAsync<PushValidationException>(() => _cluster.Grains.GetGrain<IPushGrain>($"{_project}/driver_stats_push")
            .PushAsync(new PushRequest(["driver_id", "event_timestamp", "conv_rat"], [["1", "2024-01-01", "0.5"]], PushMode.Online)));
        Assert.Contains("column 'conv_rat' is not in the schema of push source 'driver_stats_push'; expected columns: event_timestamp (UnixTimestamp), created (UnixTimestamp), driver_id (Int64), conv_rate (Float64), trips (Int64), and optionally event_id (event id)", error.Message);
        Assert.Contains("missing columns 'created' (UnixTimestamp, batch source 'driver_stats_batch'), 'conv_rate' (Float64, feature view 'driver_stats'), 'trips' (Int64, feature view 'driver_stats')", error.Message);

        var notPush = await Assert.ThrowsAsync<PushDefinitionException>(() => _cluster.Grains.GetGrain<IPushGrain>($"{_project}/driver_stats_batch")
            .PushAsync(new PushRequest(Columns, [], PushMode.Online)));
        Assert.Contains("source 'driver_stats_batch' of project", notPush.Message);
        Assert.Contains("is a file source, not a push source; push sources: driver_stats_push", notPush.Message);
    }

    [Fact]
    public async Task An_out_of_order_batch_leaves_the_newest_row()
    {
        var batch = Batch(
            Row(41, Day.AddHours(2), 0.2, 2, "o-1"),
            Row(41, Day.AddHours(1), 0.1, 1, "o-2"),
            Row(41, Day.AddHours(3), 0.3, 3, "o-3"),
            Row(41, Day.AddHours(0), 0.0, 0, "o-4"));
        var result = await PushAsync(_cluster.Grains, batch, PushMode.Online);
        Assert.Equal(new PushResult(4, 4, 0, 2, 2, 0), result);

        var read = await ReadAsync(41);
        Assert.Equal(0.3, read.Rate);
        Assert.Equal(Day.AddHours(3), read.Event);

        // A later batch with an older row is ignored too, and counted.
        Assert.Equal(1, (await PushAsync(_cluster.Grains, Batch(Row(41, Day.AddHours(1), 0.9, 9, "o-5")), PushMode.Online)).RowsIgnoredAsOlder);
        Assert.Equal(0.3, (await ReadAsync(41)).Rate);
    }

    [Fact]
    public async Task A_push_through_any_silo_is_read_back_at_once_through_entity_grains_already_active_on_every_silo()
    {
        // 30 drivers: their entity grains spread over the three silos. Reading first activates them with what the store held.
        var drivers = Enumerable.Range(100, 30).Select(d => (long)d).ToList();
        foreach (var d in drivers) Assert.Equal(FeatureStatus.NotFound, (await ReadAsync(d)).Status);
        for (var round = 1; round <= 3; round++)
        {
            var rate = round / 10.0;
            var batch = Batch([.. drivers.Select(d => Row(d, Day.AddHours(round), rate + d, round, $"rw-{round}-{d}"))]);
            Assert.Equal(drivers.Count, (await PushAsync(SiloGrains(round - 1), batch, PushMode.Online)).OnlineRowsApplied);
            // Acknowledged, so every cached entity already holds the pushed row: no waiting.
            foreach (var d in drivers)
            {
                var read = await ReadAsync(d);
                Assert.Equal(rate + d, read.Rate);
                Assert.Equal(Day.AddHours(round), read.Event);
            }
        }
        // An older row pushed later is ignored by the store, and the caches do not take it either.
        var older = Batch([.. drivers.Select(d => Row(d, Day.AddHours(2), -1.0, 0, $"rw-old-{d}"))]);
        Assert.Equal(drivers.Count, (await PushAsync(SiloGrains(2), older, PushMode.Online)).RowsIgnoredAsOlder);
        foreach (var d in drivers) Assert.Equal(0.3 + d, (await ReadAsync(d)).Rate);
    }

    [Fact]
    public async Task A_push_does_not_activate_entity_grains_and_an_entity_activated_later_reads_the_pushed_row()
    {
        var management = _cluster.Grains.GetGrain<IManagementGrain>(0);
        async Task<int> EntityActivations() => (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Contains(typeof(EntityGrain).FullName!, StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        var before = await EntityActivations();
        var batch = Batch([.. Enumerable.Range(200, 50).Select(d => Row(d, Day.AddHours(1), d / 1000.0, d, $"idle-{d}"))]);
        Assert.Equal(50, (await PushAsync(_cluster.Grains, batch, PushMode.Online)).OnlineRowsApplied);
        Assert.Equal(before, await EntityActivations());
        Assert.Equal(0.2, (await ReadAsync(200)).Rate);
        // The count sees entity grains: the read activated one.
        Assert.Equal(before + 1, await EntityActivations());
    }

    [Fact]
    public async Task An_offline_push_is_seen_by_historical_retrieval_and_not_online()
    {
        var result = await PushAsync(_cluster.Grains, Batch(Row(1, Day.AddHours(6), 0.77, 7, "h-1")), PushMode.Offline);
        Assert.Equal(new PushResult(1, 1, 0, 0, 0, 1), result);
        Assert.Equal(FeatureStatus.NotFound, (await ReadAsync(1)).Status);

        var entities = Path.Combine(_root, "entities.csv");
        // Driver 1 before the push's event time sees the history row (0.1); after it, the pushed row.
        File.WriteAllText(entities, "driver_id,event_timestamp\n1,2024-01-01T05:00:00Z\n1,2024-01-01T07:00:00Z\n");
        var job = _cluster.Grains.GetGrain<IHistoricalQueryGrain>($"push-{Guid.NewGuid():N}");
        var output = Path.Combine(_root, "out.csv");
        var status = await job.Start(new HistoricalJobRequest { Project = _project, EntitiesPath = entities, Features = ["driver_stats:conv_rate"], OutputPath = output });
        for (var i = 0; i < 1200 && !status.IsFinished; i++)
        {
            await Task.Delay(50);
            status = await job.GetStatus();
        }
        Assert.Equal(HistoricalJobState.Succeeded, status.State);
        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith(",0.1", lines[1]);
        Assert.EndsWith(",0.77", lines[2]);
    }

    [Fact]
    public async Task Typed_values_are_converted_only_when_exact()
    {
        object?[] typed = [51L, Day.AddHours(1), null, 2L, 7, "t-1"];
        Assert.Equal(1, (await PushAsync(_cluster.Grains, Batch(typed), PushMode.Online)).RowsAccepted);
        Assert.Equal(2.0, (await ReadAsync(51)).Rate);

        object?[] lossy = [52L, Day.AddHours(1), null, 0.5, 1.5, "t-2"];
        var error = await Assert.ThrowsAsync<PushValidationException>(() => PushAsync(_cluster.Grains, Batch(lossy), PushMode.Online));
        Assert.Contains("row 1, column 'trips': value 1.5 is of type Double, which does not convert exactly; expected Int64", error.Message);
    }

    private IGrainFactory SiloGrains(int silo) => _cluster.Cluster.Silos[silo].ServiceProvider.GetRequiredService<IGrainFactory>();

    private Task<PushResult> PushAsync(IGrainFactory grains, PushRequest batch, PushMode to)
        => grains.GetGrain<IPushGrain>($"{_project}/driver_stats_push").PushAsync(batch with { To = to });

    private static PushRequest Batch(params object?[][] rows) => new(Columns, rows, PushMode.Online);

    private static object?[] Row(long driver, DateTimeOffset at, double rate, long trips, string eventId)
        => [driver.ToString(), at.ToString("O"), null, rate.ToString(System.Globalization.CultureInfo.InvariantCulture), trips.ToString(), eventId];

    private async Task<(FeatureStatus Status, double? Rate, DateTimeOffset? Event)> ReadAsync(long driver)
    {
        var reply = await _cluster.Grains.GetGrain<IEntityGrain>(EntityKey.Create(_project, "driver_id", driver.ToString()).Canonical)
            .ReadAsync(new EntityReadRequest(["driver_stats"], [["conv_rate"]]));
        var status = (FeatureStatus)reply.Statuses[0];
        return (status, reply.Values[0] as double?, reply.EventMicros[0] == EntityReadReply.NoRow ? null : OnlineTime.FromMicros(reply.EventMicros[0]));
    }

    // Offline rows carry no event id; the tests' drivers tell their rows apart (history is drivers 1-3 only).
    private long CountOfflineRows(string eventIdPattern)
    {
        var drivers = eventIdPattern[0] switch { 'e' => "11, 12", 'r' => "21, 22", 'x' => "31, 32, 33", _ => "0" };
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM read_parquet('{Path.Combine(_root, "data", "driver_stats", "**", "*.parquet")}', union_by_name = true) WHERE driver_id IN ({drivers})";
        return Convert.ToInt64(command.ExecuteScalar());
    }

    /// <summary>Project <paramref name="project"/>: view driver_stats (conv_rate, trips) fed by push source driver_stats_push over folder data/driver_stats.</summary>
    internal static RegistrySnapshot Definitions(string project) => new()
    {
        Project = project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new FileSource { Name = "driver_stats_batch", Path = "data/driver_stats", TimestampField = "event_timestamp", CreatedTimestampField = "created" },
            // As granary.yaml defines push sources: the timestamp fields and column names come from the batch source.
            new PushSource { Name = "driver_stats_push", BatchSource = "driver_stats_batch" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "driver_stats_push", Ttl = TimeSpan.FromDays(3650),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
            },
        ],
    };

    // History: drivers 1-3 at midnight, in one Parquet file of the source folder.
    internal static void WriteHistory(string root)
    {
        var folder = Path.Combine(root, "data", "driver_stats");
        Directory.CreateDirectory(folder);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SET TimeZone = 'UTC';
            COPY (SELECT CAST(i AS BIGINT) AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS created,
                         i / 10.0 AS conv_rate, CAST(i AS BIGINT) AS trips FROM range(1, 4) t(i))
            TO '{Path.Combine(folder, "history.parquet")}' (FORMAT parquet);
            """;
        command.ExecuteNonQuery();
    }
}

/// <summary>On the embedded default's SQLite online store.</summary>
public sealed class SqlitePushTests : PushTests
{
    /// <inheritdoc/>
    protected override string OnlineStoreYaml => "online_store:\n  type: sqlite\n  path: data/online.db\n";
}

/// <summary>On real Redis (GRANARY_TEST_REDIS); project names are unique per test, so runs do not collide.</summary>
public sealed class RedisPushTests : PushTests
{
    /// <inheritdoc/>
    protected override string OnlineStoreYaml => $"online_store:\n  type: redis\n  connection_string: {Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379"}\n";
}
