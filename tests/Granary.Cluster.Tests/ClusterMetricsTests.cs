using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Granary.Runtime;
using Granary.Runtime.Cluster.Testing;
using Granary.Runtime.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Cluster.Tests;

/// <summary>Listens to the <c>granary-cluster-*</c> instruments of every meter, keeping totals per meter (silo).</summary>
public sealed class ClusterMetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Meter Meter, string Name), long> _values = new();

    public ClusterMetricsRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RuntimeInstruments.MeterName && instrument.Name.StartsWith("granary-cluster-", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            _values.AddOrUpdate((instrument.Meter, instrument.Name), value, (_, total) => total + value));
        // The active-silos gauge reports the current value: keep the last observation, not a sum.
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => _values[(instrument.Meter, instrument.Name)] = value);
        _listener.Start();
    }

    /// <summary>The total (counters) or last observation (gauges) of <paramref name="name"/> on <paramref name="silo"/>'s meter.</summary>
    public long Value(SiloHandle silo, string name)
    {
        _listener.RecordObservableInstruments();
        return _values.GetValueOrDefault((MeterOf(silo), name));
    }

    public static Meter MeterOf(SiloHandle silo) => silo.Services.GetRequiredService<RuntimeInstruments>().Meter;

    public void Dispose() => _listener.Dispose();
}

public sealed class ClusterMetricsTests : IAsyncLifetime
{
    private readonly InProcessTestCluster _cluster = TestClusters.Create();
    private readonly ClusterMetricsRecorder _metrics = new();

    public Task InitializeAsync() => _cluster.StartAsync(3);

    public async Task DisposeAsync()
    {
        _metrics.Dispose();
        await _cluster.DisposeAsync();
    }

    private static GrainId CounterId(string key) => new(typeof(ClusterCounterGrain).FullName!, key);

    private string KeyOwnedBy(SiloHandle owner, string prefix) => Enumerable.Range(0, 500).Select(i => prefix + i)
        .First(k => _cluster.RunningSilos[0].Silo.View.Ring.OwnerOf(CounterId(k)) == owner.Address);

    [Fact]
    public async Task Calls_across_silos_count_as_sent_on_the_caller_and_received_on_the_owner()
    {
        var silos = _cluster.RunningSilos;
        var (caller, owner) = (silos[0], silos[1]);
        var grain = caller.GrainFactory.GetGrain<IClusterCounterGrain>(KeyOwnedBy(owner, "metrics-cross-" + Guid.NewGuid().ToString("N")[..6] + "-"));
        var sentBefore = _metrics.Value(caller, "granary-cluster-messages-sent");
        var receivedBefore = _metrics.Value(owner, "granary-cluster-messages-received");

        for (var i = 0; i < 5; i++) await grain.Add(1);

        Assert.True(_metrics.Value(caller, "granary-cluster-messages-sent") - sentBefore >= 5, "the caller counts its 5 remote requests as sent");
        Assert.True(_metrics.Value(owner, "granary-cluster-messages-received") - receivedBefore >= 5, "the owner counts the 5 requests as received");
        Assert.Equal(3, _metrics.Value(caller, "granary-cluster-active-silos"));
    }

    [Fact]
    public async Task An_expired_request_increments_the_expired_counter()
    {
        var silo = _cluster.RunningSilos[0];
        var before = _metrics.Value(silo, "granary-cluster-messages-expired");

        await using var connector = await ExpiredRequests.SendAddAsync(_cluster, silo, "metrics-expired-" + Guid.NewGuid().ToString("N")[..6]);

        await Eventually.WaitUntil(() => _metrics.Value(silo, "granary-cluster-messages-expired") == before + 1, TimeSpan.FromSeconds(5),
            "granary-cluster-messages-expired counts the dropped request");
        Assert.Equal(_metrics.Value(silo, "granary-cluster-messages-expired"), silo.Silo.ExpiredRequestsDropped);
    }

    [Fact]
    public async Task Killing_a_silo_fails_its_calls_as_unavailable_and_lowers_the_active_silos_gauge()
    {
        var silos = _cluster.RunningSilos;
        var (survivor, victim) = (silos[0], silos[2]);
        var grain = survivor.GrainFactory.GetGrain<IClusterCounterGrain>(KeyOwnedBy(victim, "metrics-kill-" + Guid.NewGuid().ToString("N")[..6] + "-"));
        await grain.Add(1);
        var unavailableBefore = _metrics.Value(survivor, "granary-cluster-silo-unavailable");
        var changesBefore = _metrics.Value(survivor, "granary-cluster-membership-changes");
        Assert.Equal(3, _metrics.Value(survivor, "granary-cluster-active-silos"));

        var hanging = grain.Hang(TimeSpan.FromSeconds(30));
        await Task.Delay(200);
        await _cluster.KillSiloAsync(victim);

        await Assert.ThrowsAsync<SiloUnavailableException>(() => hanging);
        Assert.Equal(unavailableBefore + 1, _metrics.Value(survivor, "granary-cluster-silo-unavailable"));
        await Eventually.WaitUntil(() => _metrics.Value(survivor, "granary-cluster-active-silos") == 2, TimeSpan.FromSeconds(15),
            "the survivor's active-silos gauge drops to 2 once the victim is declared dead");
        Assert.True(_metrics.Value(survivor, "granary-cluster-membership-changes") > changesBefore, "the survivor counts the new view");
        Assert.True(_cluster.RunningSilos.Sum(s => _metrics.Value(s, "granary-cluster-silos-declared-dead")) >= 1,
            "a survivor counts the death it declared");
    }
}
