using System.Diagnostics;
using Granary.Online.Redis;
using Granary.Testing;
using StackExchange.Redis;
using static Granary.Online.Tests.TestRows;

namespace Granary.Online.Tests;

/// <summary>The Redis store on a real three-node Redis Cluster of the test's own: entities spread over slots and nodes.</summary>
public sealed class RedisClusterTests : IAsyncLifetime
{
    private readonly RedisServerProcess[] _nodes = Enumerable.Range(0, 3).Select(_ => new RedisServerProcess(durable: true, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000")).ToArray();

    private string Configuration => string.Join(",", _nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",connectTimeout=5000,asyncTimeout=30000";

    public async Task InitializeAsync()
    {
        // xUnit does not call DisposeAsync when InitializeAsync fails: stop the nodes here then.
        try { await CreateClusterAsync(); }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task CreateClusterAsync()
    {
        foreach (var node in _nodes) await node.StartAsync();
        var create = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        create.ArgumentList.Add("--cluster");
        create.ArgumentList.Add("create");
        foreach (var node in _nodes) create.ArgumentList.Add($"127.0.0.1:{node.Port}");
        foreach (var a in new[] { "--cluster-replicas", "0", "--cluster-yes" }) create.ArgumentList.Add(a);
        using var process = Process.Start(create)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, output + await process.StandardError.ReadToEndAsync());
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Configuration + ",allowAdmin=true");
        // Every node must see the whole cluster, not just one: a node that still lacks the slot map answers MOVED wrongly.
        await Eventually.TrueAsync(async () =>
        {
            foreach (var node in _nodes)
            {
                var info = (await redis.GetServer("127.0.0.1", node.Port).ExecuteAsync("CLUSTER", "INFO")).ToString();
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || !info.Contains("cluster_known_nodes:3", StringComparison.Ordinal)) return false;
            }
            return true;
        }, "every node to see the cluster ok");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
    }

    [Fact]
    public async Task Writes_reads_deletes_and_claims_work_across_the_cluster_with_one_slot_per_entity()
    {
        await using var store = await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Configuration, KeyPrefix = "g:" });
        var rows = (from e in Enumerable.Range(0, 2000) from v in new[] { 2, 0, 1 }
                    select Trips(Driver(e), T0.AddSeconds(v), v, view: e % 2 == 0 ? "driver_stats" : "driver_daily")).ToList();
        var outcomes = await store.WriteAsync(rows);
        Assert.Equal(4000, outcomes.Count(o => o == OnlineWriteOutcome.IgnoredAsOlder));
        var entities = Enumerable.Range(0, 2000).Select(e => Driver(e)).ToList();
        var result = await store.ReadAsync(entities, ["driver_stats", "driver_daily"]);
        for (var e = 0; e < entities.Count; e++) Assert.Equal(2L, result[e, e % 2]!.Values["trips"]);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(Configuration);
        var slots = entities.Select(e => redis.HashSlot(store.HashKeyOf(e))).Distinct().Count();
        Assert.True(slots > 1000, $"entities should spread over many slots, got {slots}");
        Assert.Equal(redis.HashSlot("{rides/driver_id=7}"), redis.HashSlot(store.HashKeyOf(Driver(7))));

        Assert.Equal(1000, await store.DeleteFeatureViewAsync(Project, "driver_stats"));
        result = await store.ReadAsync(entities, ["driver_stats", "driver_daily"]);
        for (var e = 0; e < entities.Count; e++) Assert.Equal(e % 2 == 0, result[e, e % 2] is null);

        var ids = Enumerable.Range(0, 500).Select(i => $"e{i}").ToList();
        Assert.All(await store.ClaimAndCommitAsync("rides/push", ids, TimeSpan.FromHours(1)), Assert.True);
        Assert.All(await store.ClaimAndCommitAsync("rides/push", ids, TimeSpan.FromHours(1)), Assert.False);
    }
}
