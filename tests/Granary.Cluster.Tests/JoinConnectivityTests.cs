using System.Net;
using System.Net.Sockets;
using Granary.Runtime.Cluster;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Testing;
using Granary.Runtime.Hosting;
using Granary.Runtime.Storage;

namespace Granary.Cluster.Tests;

/// <summary>
/// Orleans' join-time connectivity check: a starting silo must reach every Active, non-stale silo of the table
/// before it becomes Active; an unreachable one fails the start after MaxJoinAttemptTime.
/// </summary>
public sealed class JoinConnectivityTests
{
    private static InProcessTestCluster CreateCluster(TimeSpan maxJoinAttemptTime) => new(
        silo => TestClusters.RegisterGrains(silo).AddGrainStorage("Default", _ => new MemoryGrainStorage("Default")),
        o =>
        {
            o.MaxJoinAttemptTime = maxJoinAttemptTime;
            // Stale only after 90 s: within these tests a fresh row stays fresh, so only the join check decides.
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
        });

    /// <summary>An address on which nothing listens: a port bound once and released.</summary>
    private static SiloAddress UnreachableSilo()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return SiloAddress.New("127.0.0.1", port);
    }

    /// <summary>Writes an Active row for <paramref name="silo"/> with the given IAmAlive time, as a crashed silo leaves it.</summary>
    private static async Task InsertActiveRowAsync(IMembershipTable table, SiloAddress silo, DateTimeOffset iAmAlive)
    {
        var data = await table.ReadAllAsync();
        var entry = new MembershipEntry
        {
            Silo = silo, SiloName = "ghost", Status = SiloStatus.Active, StartTime = iAmAlive, IAmAliveTime = iAmAlive,
        };
        Assert.True(await table.InsertRowAsync(entry, data.Version.Next()), "inserting the ghost row");
    }

    private static async Task<MembershipEntry> JoinerRowAsync(IMembershipTable table, SiloAddress ghost)
    {
        var rows = (await table.ReadAllAsync()).Rows.Where(r => r.Entry.Silo != ghost).ToList();
        return Assert.Single(rows).Entry;
    }

    [Fact]
    public async Task A_silo_that_cannot_reach_a_fresh_active_peer_fails_to_start_and_is_not_active()
    {
        await using var cluster = CreateCluster(TimeSpan.FromSeconds(1.5));
        var ghost = UnreachableSilo();
        await InsertActiveRowAsync(cluster.MembershipTable, ghost, DateTimeOffset.UtcNow);

        var error = await Assert.ThrowsAsync<ClusterJoinException>(() => cluster.StartSiloAsync());

        Assert.Contains(ghost.ToString(), error.Message);
        Assert.Contains("MaxJoinAttemptTime", error.Message);
        Assert.Equal([ghost], error.UnreachableSilos);
        var joiner = await JoinerRowAsync(cluster.MembershipTable, ghost);
        Assert.Equal(error.Silo, joiner.Silo);
        Assert.Equal(SiloStatus.Dead, joiner.Status);
        Assert.Empty(cluster.Silos);
    }

    [Fact]
    public async Task A_peer_row_with_a_stale_IAmAlive_does_not_block_the_join()
    {
        await using var cluster = CreateCluster(TimeSpan.FromSeconds(1.5));
        var ghost = UnreachableSilo();
        // Stale: older than IAmAliveTablePublishTimeout (30 s) x NumMissedTableIAmAliveLimit (3).
        await InsertActiveRowAsync(cluster.MembershipTable, ghost, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10));

        var silo = await cluster.StartSiloAsync();

        Assert.Equal(SiloStatus.Active, silo.Silo.View.StatusOf(silo.Address));
        Assert.Equal(SiloStatus.Active, (await JoinerRowAsync(cluster.MembershipTable, ghost)).Status);
    }

    [Fact]
    public async Task A_peer_declared_dead_during_the_join_attempts_stops_blocking_the_join()
    {
        await using var cluster = CreateCluster(TimeSpan.FromSeconds(30));
        var ghost = UnreachableSilo();
        await InsertActiveRowAsync(cluster.MembershipTable, ghost, DateTimeOffset.UtcNow);

        var start = cluster.StartSiloAsync();
        // The joiner keeps retrying while the ghost is Active: still Joining, not started.
        for (var waited = 0; (await cluster.MembershipTable.ReadAllAsync()).Rows.Count < 2; waited += 20)
        {
            Assert.True(waited < 10_000, "the joiner did not insert its row within 10 s");
            await Task.Delay(20);
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(start.IsCompleted, "the silo started although an active peer was unreachable");
        Assert.Equal(SiloStatus.Joining, (await JoinerRowAsync(cluster.MembershipTable, ghost)).Status);

        // What the ghost's peers would do: declare it Dead in the table.
        var data = await cluster.MembershipTable.ReadAllAsync();
        var row = data.Find(ghost)!.Value;
        Assert.True(await cluster.MembershipTable.UpdateRowAsync(row.Entry with { Status = SiloStatus.Dead }, row.ETag, data.Version.Next()));

        var silo = await start.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(SiloStatus.Active, (await JoinerRowAsync(cluster.MembershipTable, ghost)).Status);
        Assert.Equal(SiloStatus.Active, silo.Silo.View.StatusOf(silo.Address));
    }
}
