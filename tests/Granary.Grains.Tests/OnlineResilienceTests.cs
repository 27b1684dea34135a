using System.Diagnostics;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Online;
using Granary.Registry;
using Granary.Serving;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Granary.Grains.Tests;

/// <summary>
/// Entity grains on a three-silo cluster whose online store is a redis-server of the test's own (AOF on), under a clock
/// the test moves: what survives deactivation, a silo restart and a Redis crash, and what a reader and a writer see while
/// Redis is down and after it is back.
/// </summary>
public sealed class OnlineResilienceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("granary-resilience-").FullName;
    private readonly PrivateRedis _redis = new();
    private readonly SteppedClock _clock = new();
    private readonly string _project = "r" + Guid.NewGuid().ToString("N")[..8];
    private ThreeSiloCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        try
        {
            _cluster = await ThreeSiloCluster.StartAsync(_root,
                $"project: {_project}\nonline_store:\n  type: redis\n  connection_string: \"{_redis.Configuration}\"\n",
                silo => silo.Services.AddSingleton<TimeProvider>(_clock));
            await ResilienceRepository.ApplyAsync(_cluster, _root, _project);
        }
        catch
        {
            await _redis.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Values_survive_deactivation_a_restart_of_their_silo_and_a_redis_crash()
    {
        var written = _clock.GetUtcNow().AddMinutes(-1);
        for (var d = 1; d <= 5; d++) Assert.Equal(new[] { true }, await Entity(d).WriteAsync(Write(written, d / 10.0, d)));
        await AssertHoldsAsync(written, "as written");

        // Deactivation: the grain is gone; its next activation loads from Redis.
        var management = _cluster.Grains.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        await Until.HoldsAsync(async () => await management.GetGrainActivationCount((GrainReference)Entity(1)) == 0, "entity 1 to deactivate");
        await AssertHoldsAsync(written, "after deactivation");

        // A restart of a silo that hosts an entity, other than the first silo (which the test keeps up). Entity grains
        // live on the silo their key hashes to, so the test looks for an entity placed elsewhere, writing more as needed.
        var primary = _cluster.Cluster.Silos[0].SiloAddress;
        SiloAddress? host = null;
        var moved = 0;
        for (var d = 1; host is null; d++)
        {
            Assert.True(d <= 200, "no entity of 200 was placed off the first silo");
            if (d > 5) Assert.Equal(new[] { true }, await Entity(d).WriteAsync(Write(written, d / 10.0, d)));
            await Entity(d).ReadAsync(Request);
            var at = await management.GetActivationAddress(Entity(d));
            if (at is not null && !at.Equals(primary)) (host, moved) = (at, d);
        }
        await _cluster.Cluster.RestartSiloAsync(_cluster.Cluster.GetSiloForAddress(host)!);
        await AssertHoldsAsync(written, "after a restart of its silo");
        Assert.Equal(moved / 10.0, (double)(await ReadAsync([moved]))[0][0].Value!);

        // A crash of Redis itself (SIGKILL), then a fresh activation of every grain: what comes back is the AOF.
        await _redis.KillAsync();
        await _redis.StartAsync();
        await management.ForceActivationCollection(TimeSpan.Zero);
        // Wait on the same five reads the check makes: entity 1 may still be active (its collection is asynchronous) and
        // answer from its cache while the others' fresh activations still find Redis unreachable.
        await Until.HoldsAsync(async () => { await ReadAsync([1, 2, 3, 4, 5]); return true; }, "the online store to reconnect");
        await AssertHoldsAsync(written, "after a Redis crash and restart");
    }

    [Fact]
    public async Task While_redis_is_down_active_grains_serve_what_they_hold_flagged_stale_past_the_sla_and_writes_fail_retriably()
    {
        var written = _clock.GetUtcNow().AddMinutes(-1);
        for (var d = 1; d <= 3; d++) await Entity(d).WriteAsync(Write(written, d / 10.0, d));
        var before = await ReadAsync([1, 2, 3]);
        Assert.All(before.SelectMany(r => r), f => Assert.False(f.Stale));
        Assert.All(before.SelectMany(r => r), f => Assert.False(f.ServedFromCache));

        await _redis.KillAsync();
        // Once the store's connection has seen Redis go, every answer from the cache says it is the last-known-good one.
        await Until.HoldsAsync(async () => (await ReadAsync([1, 2, 3])).SelectMany(r => r).All(f => f.ServedFromCache), "answers flagged served from cache while Redis is down");

        // Within the SLA (5 minutes): the cached values, unflagged.
        var down = await ReadAsync([1, 2, 3]);
        for (var d = 1; d <= 3; d++)
        {
            Assert.Equal(d / 10.0, (double)down[d - 1][0].Value!);
            Assert.Equal(FeatureStatus.Present, down[d - 1][0].Status);
            Assert.False(down[d - 1][0].Stale);
            Assert.All(down[d - 1], f => Assert.True(f.ServedFromCache));
        }

        // Past the SLA, still inside the ttl (1 hour): the same values, PRESENT, and flagged stale.
        _clock.Advance(TimeSpan.FromMinutes(10));
        var aged = await ReadAsync([1, 2, 3]);
        for (var d = 1; d <= 3; d++)
        {
            Assert.Equal(d / 10.0, (double)aged[d - 1][0].Value!);
            Assert.Equal((long)d, aged[d - 1][1].Value);
            Assert.Equal(FeatureStatus.Present, aged[d - 1][0].Status);
            Assert.True(aged[d - 1][0].Stale);
            Assert.True(aged[d - 1][0].ServedFromCache);
            Assert.Equal(OnlineTime.Truncate(written), aged[d - 1][0].EventTimestamp);
        }

        // A write is refused with the typed, retriable error (nothing acknowledged), and promptly: SE.Redis fails fast while disconnected.
        var newer = _clock.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => Entity(1).WriteAsync(Write(newer, 0.9, 90)));
        output.WriteLine($"write with Redis down refused after {clock.ElapsedMilliseconds} ms: {refused.Message}");
        Assert.True(refused.IsRetriable);
        Assert.Contains($"127.0.0.1:{_redis.Port}", refused.Message);
        Assert.False(string.IsNullOrEmpty(refused.Hint));
        // The refused write left the cache as it was.
        Assert.Equal(0.1, (double)(await ReadAsync([1]))[0][0].Value!);
        // An entity no grain holds has nothing to serve: the same retriable error, not an empty answer.
        await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => ReadAsync([42]));

        // Redis back: the retried write is accepted, and reads see it (fresh, so no longer stale).
        await _redis.StartAsync();
        await Until.HoldsAsync(async () => (await Entity(1).WriteAsync(Write(newer, 0.9, 90)))[0], "a write to be accepted once Redis is back");
        // Each silo's store connection comes back on its own (the write above proves one of them): wait for the flags to clear.
        await Until.HoldsAsync(async () => (await ReadAsync([1, 2])).SelectMany(r => r).All(f => !f.ServedFromCache), "answers no longer flagged once every silo reconnected");
        var after = await ReadAsync([1, 2]);
        Assert.Equal(0.9, (double)after[0][0].Value!);
        Assert.Equal(90L, after[0][1].Value);
        Assert.False(after[0][0].Stale);
        Assert.All(after.SelectMany(r => r), f => Assert.False(f.ServedFromCache));
        Assert.True(after[1][0].Stale); // entity 2 still holds its old row

        // And the accepted write is in Redis, not only in the grain's cache.
        await _cluster.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(0.9, (double)(await ReadAsync([1]))[0][0].Value!);
    }

    private static readonly EntityReadRequest Request = new(["driver_stats"], [["conv_rate", "trips"]]);

    private IEntityGrain Entity(long driver) => _cluster.Grains.GetGrain<IEntityGrain>(EntityKey.Create(_project, "driver_id", driver.ToString(System.Globalization.CultureInfo.InvariantCulture)).Canonical);

    private async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync(long[] drivers)
        => await new EntityGrainFeatureSource(_cluster.Grains).ReadAsync(
            drivers.Select(d => EntityKey.Create(_project, "driver_id", d.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList(),
            new OnlineViewSelection(["driver_stats"], [["conv_rate", "trips"]]), CancellationToken.None);

    private async Task AssertHoldsAsync(DateTimeOffset written, string when)
    {
        var rows = await ReadAsync([1, 2, 3, 4, 5]);
        for (var d = 1; d <= 5; d++)
        {
            Assert.True(rows[d - 1][0].Status == FeatureStatus.Present, $"driver {d} {when}: {rows[d - 1][0].Status}");
            Assert.Equal(d / 10.0, (double)rows[d - 1][0].Value!);
            Assert.Equal((long)d, rows[d - 1][1].Value);
            Assert.Equal(OnlineTime.Truncate(written), rows[d - 1][0].EventTimestamp);
        }
    }

    internal static EntityWrite Write(DateTimeOffset eventTime, double? rate, long? trips)
        => new([new EntityWriteRow("driver_stats", OnlineTime.ToMicros(eventTime), long.MinValue, ["conv_rate", "trips"], [rate, trips])]);
}

/// <summary>The repositories of these tests: one "driver_stats" view (conv_rate Float64, trips Int64) over a Parquet source.</summary>
internal static class ResilienceRepository
{
    public static readonly TimeSpan Ttl = TimeSpan.FromHours(1);
    public static readonly TimeSpan Sla = TimeSpan.FromMinutes(5);

    /// <summary>Applies the view with a ttl of 1 hour and a freshness SLA of 5 minutes over a one-row source.</summary>
    public static async Task ApplyAsync(ThreeSiloCluster cluster, string root, string project)
    {
        Directory.CreateDirectory(Path.Combine(root, "data"));
        DuckSql.Run($"""
            COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp,
                         TIMESTAMPTZ '2024-01-01 00:00:00+00' AS created, 0.5::DOUBLE AS conv_rate, 1::BIGINT AS trips)
            TO '{Path.Combine(root, "data", "driver_stats.parquet")}' (FORMAT parquet);
            """);
        await ApplyAsync(cluster, project, Ttl, Sla);
    }

    /// <summary>Applies the view over <c>data/driver_stats.parquet</c> (driver_id, event_timestamp, created, conv_rate, trips).</summary>
    public static async Task ApplyAsync(ThreeSiloCluster cluster, string project, TimeSpan ttl, TimeSpan? sla)
    {
        var tags = sla is { } s
            ? new Dictionary<string, string> { [OnlineReadRules.FreshnessSlaTag] = s.TotalMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture) }
            : new Dictionary<string, string>();
        var snapshot = new RegistrySnapshot
        {
            Project = project,
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new FileSource { Name = "drivers", Path = "data/driver_stats.parquet", TimestampField = "event_timestamp", CreatedTimestampField = "created" }],
            FeatureViews =
            [
                new FeatureView
                {
                    Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = ttl, Tags = tags,
                    Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
                },
            ],
        };
        await cluster.Grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(snapshot, ExpectedVersion: 0, Force: false));
    }
}
