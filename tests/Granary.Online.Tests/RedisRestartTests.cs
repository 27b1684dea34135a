using System.Diagnostics;
using Granary.Online.Redis;
using Granary.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;
using static Granary.Online.Tests.TestRows;

namespace Granary.Online.Tests;

/// <summary>The Redis store across a Redis crash and restart (AOF on), and while Redis is down.</summary>
public sealed class RedisRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly RedisServerProcess _server = new();

    private string Configuration => $"127.0.0.1:{_server.Port},connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000,connectRetry=1";

    public Task InitializeAsync() => _server.StartAsync(); // kills its process itself when the start fails

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Written_rows_and_claims_survive_a_crash_writes_fail_retriably_while_down_and_work_again_after()
    {
        await using var store = await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Configuration, KeyPrefix = "t:" });
        await store.WriteAsync([Trips(Driver(1), T0, 1), Trips(Driver(2), T0, 2)]);
        Assert.Equal([true], await store.ClaimAndCommitAsync("rides/push", ["e1"], TimeSpan.FromHours(1)));

        await _server.KillAsync();

        var clock = Stopwatch.StartNew();
        var write = await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => store.WriteAsync([Trips(Driver(1), T0.AddMinutes(1), 10)]));
        output.WriteLine($"write while Redis is down failed after {clock.ElapsedMilliseconds} ms: {write.Message}");
        Assert.True(write.IsRetriable);
        Assert.Contains($"127.0.0.1:{_server.Port}", write.Message);
        await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => store.ReadAsync([Driver(1)], ["driver_stats"]));
        await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => store.ClaimAndCommitAsync("rides/push", ["e2"], TimeSpan.FromHours(1)));
        Assert.False((await store.CheckHealthAsync()).Healthy);

        await _server.StartAsync();
        await Eventually.TrueAsync(async () => (await store.CheckHealthAsync()).Healthy, "the store to reconnect");

        var result = await store.ReadAsync([Driver(1), Driver(2)], ["driver_stats"]);
        Assert.Equal(1L, result[0, 0]!.Values["trips"]);
        Assert.Equal(2L, result[1, 0]!.Values["trips"]);
        Assert.Equal([false], await store.ClaimAndCommitAsync("rides/push", ["e1"], TimeSpan.FromHours(1)));
        // The restarted server has no scripts: the store reloads its script on NOSCRIPT, and newest-wins still holds.
        Assert.Equal([OnlineWriteOutcome.Applied, OnlineWriteOutcome.IgnoredAsOlder],
            await store.WriteAsync([Trips(Driver(1), T0.AddMinutes(1), 10), Trips(Driver(2), T0.AddMinutes(-1), 20)]));
        result = await store.ReadAsync([Driver(1), Driver(2)], ["driver_stats"]);
        Assert.Equal(10L, result[0, 0]!.Values["trips"]);
        Assert.Equal(2L, result[1, 0]!.Values["trips"]);
    }

    [Fact]
    public async Task A_store_opened_while_redis_is_down_works_once_it_is_up()
    {
        await _server.KillAsync();
        await using var store = await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Configuration });
        await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => store.WriteAsync([Trips(Driver(1), T0, 1)]));
        await _server.StartAsync();
        await Eventually.TrueAsync(async () => (await store.CheckHealthAsync()).Healthy, "the store to connect");
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(Driver(1), T0, 1)]));
    }

    [Fact]
    public async Task After_the_script_cache_is_flushed_writes_reload_the_script()
    {
        await using var store = await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Configuration });
        await store.WriteAsync([Trips(Driver(1), T0, 1)]);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(Configuration + ",allowAdmin=true"))
            await redis.GetServer(redis.GetEndPoints()[0]).ScriptFlushAsync();
        var rows = Enumerable.Range(0, 500).Select(i => Trips(Driver(i), T0.AddSeconds(1), i)).ToList();
        var outcomes = await store.WriteAsync(rows);
        Assert.All(outcomes, o => Assert.Equal(OnlineWriteOutcome.Applied, o));
        Assert.Equal(1L, (await store.ReadAsync([Driver(1)], ["driver_stats"]))[0, 0]!.Values["trips"]);
    }
}
