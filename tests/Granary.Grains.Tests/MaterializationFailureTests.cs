using System.Globalization;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Online;
using Granary.Online.Redis;
using Granary.Registry;
using Orleans.Configuration;
using Orleans.Runtime;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Granary.Grains.Tests;

/// <summary>
/// Materialization on a three-silo cluster with grain state in Redis (Microsoft.Orleans.Persistence.Redis), so a run's
/// checkpoint outlives its silo: a run whose coordinating silo is killed resumes and ends equal to the brute-force
/// reference, and a scheduled run ticks by reminder with nobody starting it. Online store: the shared test Redis, keys
/// under a project of the test's own.
/// </summary>
public sealed class MaterializationFailureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string Redis = Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379";
    private readonly string _root = Directory.CreateTempSubdirectory("granary-mat-fail-").FullName;
    private readonly string _project = "m" + Guid.NewGuid().ToString("N")[..8];
    private ThreeSiloCluster? _cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_run_whose_silo_is_killed_resumes_and_ends_equal_to_the_reference()
    {
        // 200,000 drivers x 4 rows: big enough that the run takes seconds, so the kill lands mid-run.
        const int drivers = 200_000;
        await StartAsync(drivers, rowsPerDriver: 4);
        var cluster = _cluster!.Cluster;
        var grain = _cluster.Grains.GetGrain<IMaterializationGrain>($"{_project}/driver_stats");

        // Put the coordinator on a secondary silo before the run (the first silo stays up).
        await grain.GetStatusAsync();
        var primary = cluster.Silos[0].SiloAddress;
        var management = _cluster.Grains.GetGrain<IManagementGrain>(0);
        // The victim is the secondary silo the coordinator lives on. A migration request can be dropped (the grain busy, the
        // directory still settling), so it is asked again on every check until the coordinator is off the primary silo.
        var secondary = cluster.Silos.First(s => !s.SiloAddress.Equals(primary));
        SiloAddress? at = null;
        await Until.HoldsAsync(async () =>
        {
            at = await management.GetActivationAddress(grain);
            if (at is not null && !at.Equals(primary)) return true;
            // TestingHost's MigrateAsync waits for the move it asked for and never returns when the request was dropped.
            try { await cluster.MigrateAsync(grain, secondary.SiloAddress).WaitAsync(TimeSpan.FromSeconds(10)); }
            catch (TimeoutException) { /* asked again on the next check */ }
            return false;
        }, "the coordinator to move off the primary silo");
        var victim = cluster.Silos.First(s => s.SiloAddress.Equals(at));

        var (start, end) = (Day, Day.AddDays(2));
        var status = await grain.StartAsync(start, end, incremental: false);
        while (!status.IsFinished && status.RowsWritten == 0 && status.PartitionsDone == 0)
        {
            await Task.Delay(20);
            status = await grain.GetStatusAsync();
        }
        Assert.False(status.IsFinished, "the run finished before the silo could be killed; make the view larger");
        Assert.Equal(victim.SiloAddress, await management.GetActivationAddress(grain));
        output.WriteLine($"killing {victim.SiloAddress} at {status.PartitionsDone}/{status.Partitions} partitions, {status.RowsWritten} rows");
        await cluster.KillSiloAsync(victim);

        // Nobody restarts the run: the next status call activates the coordinator elsewhere, which resumes its checkpoint.
        await Until.HoldsAsync(async () => (status = await grain.GetStatusAsync()).IsFinished, "the resumed run to finish", TimeSpan.FromMinutes(5));
        output.WriteLine($"finished: {status.State}, resumes {status.Resumes}, rows {status.RowsWritten}, {status.FinishedAt - status.StartedAt}");
        Assert.Equal(MaterializationRunState.Succeeded, status.State);
        Assert.True(status.Resumes >= 1, $"the run reports {status.Resumes} resumes");

        var reference = LatestPerDriver(start, end);
        Assert.Equal(reference.Count, status.RowsWritten);
        await AssertOnlineEqualsAsync(reference, drivers);
    }

    [Fact]
    public async Task A_scheduled_run_materializes_by_reminder_without_a_start_call()
    {
        await StartAsync(drivers: 300, rowsPerDriver: 5);
        var grain = _cluster!.Grains.GetGrain<IMaterializationGrain>($"{_project}/driver_stats");
        // Every second, looking back far enough to cover the data (which lies in January 2024).
        var lookback = DateTimeOffset.UtcNow - Day + TimeSpan.FromDays(1);
        await grain.ScheduleAsync(TimeSpan.FromSeconds(1), lookback);

        MaterializationStatus status = null!;
        await Until.HoldsAsync(async () => (status = await grain.GetStatusAsync()).State == MaterializationRunState.Succeeded,
            "a scheduled run to succeed", TimeSpan.FromMinutes(2));
        await grain.ScheduleAsync(null, TimeSpan.Zero);

        var reference = LatestPerDriver(status.Start, status.End);
        Assert.Equal(300, reference.Count);
        await AssertOnlineEqualsAsync(reference, 300);
        var snapshot = await _cluster.Grains.GetGrain<IRegistryGrain>(_project).GetSnapshotAsync();
        Assert.Contains(snapshot.MaterializationIntervals["driver_stats"], i => i.Start == status.Start && i.End == status.End);
    }

    private static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private string SourcePath => Path.Combine(_root, "data", "driver_stats.parquet");

    private async Task StartAsync(int drivers, int rowsPerDriver)
    {
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        // Event times at pseudo-random seconds of two days, ties on the event time broken by created.
        DuckSql.Run($"""
            SET TimeZone = 'UTC';
            COPY (
              SELECT (i % {drivers}) + 1 AS driver_id,
                     TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(hash(i // 2) % 172800 AS BIGINT)) AS event_timestamp,
                     TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(i AS BIGINT)) AS created,
                     (hash(i * 7919) % 1000000) / 1000000.0 AS conv_rate,
                     CAST(i AS BIGINT) AS trips
              FROM range({drivers * rowsPerDriver}) t(i)
            ) TO '{SourcePath}' (FORMAT parquet);
            """);
        _cluster = await ThreeSiloCluster.StartAsync(_root, $"project: {_project}\nonline_store:\n  type: redis\n  connection_string: {Redis}\n",
            silo =>
            {
                silo.AddRedisGrainStorageAsDefault(o => o.ConfigurationOptions = ConfigurationOptions.Parse(Redis));
                silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromMilliseconds(500));
            },
            memoryGrainState: false);
        await ResilienceRepository.ApplyAsync(_cluster, _project, TimeSpan.FromDays(3650), sla: null);
    }

    /// <summary>Reads every driver straight from the online store (not through grains) and compares with the reference.</summary>
    private async Task AssertOnlineEqualsAsync(Dictionary<long, (double Rate, long Trips, long EventMicros)> reference, int drivers)
    {
        await using var store = await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Redis });
        var mismatches = new List<string>();
        for (var first = 1; first <= drivers; first += 2_000)
        {
            var keys = Enumerable.Range(first, Math.Min(2_000, drivers - first + 1))
                .Select(d => EntityKey.Create(_project, "driver_id", d.ToString(CultureInfo.InvariantCulture))).ToList();
            var rows = await store.ReadAsync(keys, ["driver_stats"]);
            for (var e = 0; e < keys.Count; e++)
            {
                long driver = first + e;
                var row = rows[e, 0];
                var expected = reference.TryGetValue(driver, out var x) ? x : ((double Rate, long Trips, long EventMicros)?)null;
                if (row is null && expected is null) continue;
                if (row is null || expected is null || OnlineTime.ToMicros(row.EventTimestamp) != expected.Value.EventMicros
                    || (long)row.Values["trips"]! != expected.Value.Trips || Math.Abs((double)row.Values["conv_rate"]! - expected.Value.Rate) > 1e-12)
                    mismatches.Add($"driver {driver}: online {(row is null ? "none" : $"{row.Values["trips"]}@{row.EventTimestamp:O}")}, reference {(expected is null ? "none" : $"{expected.Value.Trips}")}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} drivers differ from the reference, e.g. {string.Join("; ", mismatches.Take(5))}");
    }

    // The reference: every source row read back, the latest (event, then created) per driver within [start, end], in plain C#.
    private Dictionary<long, (double Rate, long Trips, long EventMicros)> LatestPerDriver(DateTimeOffset start, DateTimeOffset end)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT driver_id, epoch_us(event_timestamp), epoch_us(created), conv_rate, trips FROM '{SourcePath}'";
        using var reader = command.ExecuteReader();
        var (from, to) = (OnlineTime.ToMicros(start), OnlineTime.ToMicros(end));
        var best = new Dictionary<long, (long Event, long Created, double Rate, long Trips)>();
        while (reader.Read())
        {
            var (driver, ev, created) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            if (ev < from || ev > to) continue;
            if (!best.TryGetValue(driver, out var held) || ev > held.Event || (ev == held.Event && created > held.Created))
                best[driver] = (ev, created, reader.GetDouble(3), reader.GetInt64(4));
        }
        return best.ToDictionary(p => p.Key, p => (p.Value.Rate, p.Value.Trips, p.Value.Event));
    }
}
