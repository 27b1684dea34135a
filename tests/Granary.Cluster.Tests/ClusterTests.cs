using System.Diagnostics;
using Granary.Runtime;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Testing;
using Granary.Runtime.Cluster.Transport;
using Granary.Runtime.Invocation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Cluster.Tests;

public sealed class ClusterTests : IAsyncLifetime
{
    private readonly InProcessTestCluster _cluster = TestClusters.Create();

    public Task InitializeAsync() => _cluster.StartAsync(3);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();


    [Fact]
    public async Task Each_grain_runs_on_its_ring_owner_whichever_silo_is_called()
    {
        var silos = _cluster.RunningSilos;
        var placements = new HashSet<string>();
        for (var i = 0; i < 30; i++)
        {
            var key = "placement-" + i;
            var owner = silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, key))!.ToString();
            foreach (var silo in silos)
            {
                Assert.Equal(owner, await silo.GrainFactory.GetGrain<IClusterCounterGrain>(key).WhereAmI());
            }
            placements.Add(owner);
        }
        // 30 grains over 3 silos: every silo owns some.
        Assert.Equal(3, placements.Count);
    }

    [Fact]
    public async Task Calls_cross_silos_with_results_and_exceptions()
    {
        var silos = _cluster.RunningSilos;
        var key = Enumerable.Range(0, 100).Select(i => "cross-" + i)
            .First(k => silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, k)) != silos[0].Address);
        var grain = silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key);
        Assert.Equal(5, await grain.Add(5));
        Assert.Equal(12, await grain.Add(7));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Fail("bad input 'x'"));
        Assert.Equal("bad input 'x'", error.Message);
        Assert.Equal(12, await grain.Get());
    }

    [Fact]
    public async Task Grain_references_cross_silos_as_arguments_and_results()
    {
        var silos = _cluster.RunningSilos;
        var (caller, relayOwner, targetOwner) = (silos[0], silos[1], silos[2]);
        var ring = caller.Silo.View.Ring;
        var prefix = "ref-" + Guid.NewGuid().ToString("N")[..6] + "-";
        string KeyOn(string type, SiloHandle owner, string kind) => Enumerable.Range(0, 500).Select(i => prefix + kind + i)
            .First(k => ring.OwnerOf(new GrainId(type, k)) == owner.Address);
        var relayKey = KeyOn(typeof(RelayGrain).FullName!, relayOwner, "relay-");
        var targetKey = KeyOn(typeof(ClusterCounterGrain).FullName!, targetOwner, "target-");
        var nextKey = KeyOn(typeof(ClusterCounterGrain).FullName!, targetOwner, "next-");

        // The relay (silo B) gets a reference to a grain on silo C as an argument, calls it, and returns another reference.
        var target = caller.GrainFactory.GetGrain<IClusterCounterGrain>(targetKey);
        var next = await caller.GrainFactory.GetGrain<IRelayGrain>(relayKey).AddThroughAndHandOff(target, 4, nextKey);

        Assert.Equal(4, await target.Get());
        Assert.Equal(6, await next.Add(6));
        Assert.Equal(targetOwner.Address.ToString(), await next.WhereAmI());

        // The same through a cluster client, which has no silo of its own.
        await using var client = await _cluster.CreateClientAsync(silo => TestClusters.RegisterGrains(silo));
        var fromClient = await client.GrainFactory.GetGrain<IRelayGrain>(relayKey)
            .AddThroughAndHandOff(client.GrainFactory.GetGrain<IClusterCounterGrain>(targetKey), 1, nextKey);
        Assert.Equal(5, await target.Get());
        Assert.Equal(7, await fromClient.Add(1));
    }

    [Fact]
    public async Task Hundred_callers_racing_on_ten_grains_make_exactly_one_activation_each()
    {
        var prefix = "race-" + Guid.NewGuid().ToString("N")[..6] + "-";
        var silos = _cluster.RunningSilos;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.Task;
            var silo = silos[i % silos.Count];
            return await silo.GrainFactory.GetGrain<IClusterCounterGrain>(prefix + (i % 10)).Add(1);
        }).ToList();
        start.SetResult();
        await Task.WhenAll(callers);

        for (var g = 0; g < 10; g++)
        {
            Assert.Equal(1, ActivationLog.Activations[prefix + g]);
            Assert.Equal(10, await silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(prefix + g).Get());
        }
    }

    [Fact]
    public async Task A_killed_silo_is_declared_dead_within_a_bounded_time_and_the_cluster_keeps_serving()
    {
        var victim = _cluster.RunningSilos[2];
        var watch = Stopwatch.StartNew();
        await _cluster.KillSiloAsync(victim);
        await Eventually.WaitUntil(() => _cluster.RunningSilos.All(s => s.Silo.View.StatusOf(victim.Address) == SiloStatus.Dead),
            TimeSpan.FromSeconds(10), "survivors see the victim Dead");
        // 3 missed 200 ms probes, then two votes: well under 5 s even on a loaded machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"declared dead after {watch.Elapsed}");

        var survivor = _cluster.RunningSilos[0];
        for (var i = 0; i < 30; i++)
        {
            var where = await survivor.GrainFactory.GetGrain<IClusterCounterGrain>("after-kill-" + i).WhereAmI();
            Assert.NotEqual(victim.Address.ToString(), where);
        }
    }

    [Fact]
    public async Task Grains_of_a_killed_silo_come_back_elsewhere_with_their_last_acknowledged_state()
    {
        var silos = _cluster.RunningSilos;
        var victim = silos[1];
        var keys = Enumerable.Range(0, 200).Select(i => "failover-" + i)
            .Where(k => silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, k)) == victim.Address)
            .Take(5).ToList();
        Assert.Equal(5, keys.Count);
        foreach (var key in keys)
        {
            var grain = silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key);
            await grain.Add(10);
            await grain.Add(32);
            Assert.Equal(victim.Address.ToString(), await grain.WhereAmI());
        }

        await _cluster.KillSiloAsync(victim);
        await _cluster.WaitForViewsToConvergeAsync();

        foreach (var key in keys)
        {
            var grain = silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key);
            Assert.Equal(42, await grain.Get());
            Assert.NotEqual(victim.Address.ToString(), await grain.WhereAmI());
        }
    }

    [Fact]
    public async Task A_call_in_flight_to_a_killed_silo_fails_fast_with_SiloUnavailableException()
    {
        var silos = _cluster.RunningSilos;
        var victim = silos[2];
        var key = Enumerable.Range(0, 200).Select(i => "inflight-" + i)
            .First(k => silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, k)) == victim.Address);
        var grain = silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key);
        await grain.WhereAmI();
        var hanging = grain.Hang(TimeSpan.FromSeconds(20));
        await Task.Delay(200);

        var watch = Stopwatch.StartNew();
        await _cluster.KillSiloAsync(victim);
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => hanging);
        Assert.Contains(victim.Address.ToString(), error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"failed after {watch.Elapsed}, expected at once");
    }

    [Fact]
    public async Task A_gracefully_stopped_silo_persists_and_hands_over_its_grains()
    {
        var silos = _cluster.RunningSilos;
        var leaving = silos[1];
        var keys = Enumerable.Range(0, 200).Select(i => "graceful-" + i)
            .Where(k => silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, k)) == leaving.Address)
            .Take(3).ToList();
        foreach (var key in keys) await silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key).Add(7);

        await _cluster.StopSiloAsync(leaving);
        var row = (await _cluster.MembershipTable.ReadAllAsync()).Find(leaving.Address)!.Value;
        Assert.Equal(SiloStatus.Dead, row.Entry.Status);
        Assert.Empty(row.Entry.SuspectTimes);
        await _cluster.WaitForViewsToConvergeAsync();

        foreach (var key in keys)
        {
            var grain = silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key);
            Assert.Equal(7, await grain.Get());
            Assert.NotEqual(leaving.Address.ToString(), await grain.WhereAmI());
        }
    }

    [Fact]
    public async Task A_new_silo_takes_over_part_of_the_ring_and_the_old_owner_lets_go()
    {
        var first = _cluster.RunningSilos[0];
        var keys = Enumerable.Range(0, 60).Select(i => "join-" + i).ToList();
        foreach (var key in keys) await first.GrainFactory.GetGrain<IClusterCounterGrain>(key).Add(1);

        var joined = await _cluster.StartSiloAsync();
        await _cluster.WaitForViewsToConvergeAsync();

        var moved = 0;
        foreach (var key in keys)
        {
            var grain = first.GrainFactory.GetGrain<IClusterCounterGrain>(key);
            Assert.Equal(1, await grain.Get());
            if (await grain.WhereAmI() == joined.Address.ToString()) moved++;
        }
        Assert.True(moved > 0, "the new silo owns part of the ring");
        // Old owners deactivated what they no longer own.
        foreach (var silo in _cluster.RunningSilos)
        {
            var catalog = (Granary.Runtime.Catalog.ActivationCatalog)silo.Services.GetService(typeof(Granary.Runtime.Catalog.ActivationCatalog))!;
            await Eventually.WaitUntil(() => catalog.GetActiveGrainIds().All(g => silo.Silo.View.Ring.OwnerOf(g) == silo.Address),
                TimeSpan.FromSeconds(5), $"{silo.Name} holds only grains it owns");
        }
    }

    [Fact]
    public async Task A_request_past_its_expiry_is_dropped_without_running()
    {
        var silo = _cluster.RunningSilos[0];
        var key = "expired-" + Guid.NewGuid().ToString("N")[..6];
        var before = silo.Silo.ExpiredRequestsDropped;

        await using var connector = await ExpiredRequests.SendAddAsync(_cluster, silo, key);

        await Eventually.WaitUntil(() => silo.Silo.ExpiredRequestsDropped > before, TimeSpan.FromSeconds(5), "the silo counts the dropped request");
        Assert.False(ActivationLog.Activations.ContainsKey(key));
        Assert.Equal(0, await silo.GrainFactory.GetGrain<IClusterCounterGrain>(key).Get());
    }

    [Fact]
    public async Task A_request_that_cannot_be_serialized_fails_alone_and_the_connection_keeps_working()
    {
        var silos = _cluster.RunningSilos;
        var key = Enumerable.Range(0, 100).Select(i => "unserializable-" + i)
            .First(k => silos[0].Silo.View.Ring.OwnerOf(new GrainId(typeof(ClusterCounterGrain).FullName!, k)) != silos[0].Address);
        var grain = silos[0].GrainFactory.GetGrain<IClusterCounterGrain>(key);
        Assert.Equal(1, await grain.Add(1));

        RequestContext.Set("not-serializable", new object());
        try
        {
            var error = await Assert.ThrowsAsync<Granary.Runtime.Serialization.GrainSerializationException>(() => grain.Add(1));
            Assert.Contains("not-serializable", error.Message);
        }
        finally
        {
            RequestContext.Clear();
        }
        Assert.Equal(2, await grain.Add(1));
    }
}
