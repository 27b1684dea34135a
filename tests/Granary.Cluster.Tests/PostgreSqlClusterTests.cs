using System.Diagnostics;
using Granary.Clustering.PostgreSql;
using Granary.Runtime;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Testing;
using Granary.Runtime.Hosting;
using Granary.Runtime.Storage;

namespace Granary.Cluster.Tests;

/// <summary>The same failover, with membership and reminders in a real PostgreSQL.</summary>
public sealed class PostgreSqlClusterTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task With_PostgreSQL_membership_a_killed_silo_is_declared_dead_and_its_grains_come_back()
    {
        var clusterId = "pg-" + Guid.NewGuid().ToString("N")[..8];
        var storage = new MemoryGrainStorage("Default");
        await using var cluster = new InProcessTestCluster(
            silo => TestClusters.RegisterGrains(silo).AddGrainStorage("Default", _ => storage),
            clusterId: clusterId,
            membershipTable: PostgreSqlClusteringExtensions.CreateMembershipTable(database.ConnectionString, clusterId),
            reminderTable: PostgreSqlClusteringExtensions.CreateReminderTable(database.ConnectionString, clusterId));
        await cluster.StartAsync(3);

        var silos = cluster.RunningSilos;
        var victim = silos[2];
        var keys = Enumerable.Range(0, 200).Select(i => "pg-failover-" + i)
            .Where(k => silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, k)) == victim.Address)
            .Take(3).ToList();
        foreach (var key in keys) await silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key).Add(5);

        var watch = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        await cluster.WaitForViewsToConvergeAsync(TimeSpan.FromSeconds(10));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"declared dead after {watch.Elapsed}");

        var row = (await cluster.MembershipTable.ReadAllAsync()).Find(victim.Address)!.Value;
        Assert.Equal(SiloStatus.Dead, row.Entry.Status);
        foreach (var key in keys)
        {
            Assert.Equal(5, await silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key).Get());
        }
    }
}
