using Granary.Runtime.Configuration;

namespace Granary.Runtime.Tests;

public sealed class ActivationTests
{
    [Fact]
    public async Task State_survives_deactivation_and_is_loaded_before_OnActivateAsync()
    {
        await using var silo = await TestSilo.StartAsync();
        var key = Guid.NewGuid().ToString();
        var counter = silo.Grains.GetGrain<ICounterGrain>(key);
        await counter.Add(5);
        await counter.Add(2);
        var firstActivation = await counter.ActivationId();

        await counter.Deactivate();
        await Eventually.True(() => !silo.Catalog.IsActive(new GrainId(typeof(CounterGrain).FullName!, key)), "the counter to deactivate");

        Assert.Equal(7, await counter.Get());
        Assert.NotEqual(firstActivation, await counter.ActivationId());
        Assert.Equal(7, CounterGrain.ValueSeenOnActivate[key]);
    }

    [Fact]
    public async Task Calls_during_deactivation_reach_a_fresh_activation_with_the_written_state()
    {
        await using var silo = await TestSilo.StartAsync();
        var counter = silo.Grains.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());
        await counter.Add(1);
        await counter.Deactivate();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => counter.Add(1)));
        Assert.Equal(21, results.Max());
        Assert.Equal(21, await counter.Get());
    }

    [Fact]
    public async Task Integer_keys_round_trip()
    {
        await using var silo = await TestSilo.StartAsync();
        Assert.Equal(42L, await silo.Grains.GetGrain<IIntegerKeyGrain>(42).Key());
    }

    [Fact]
    public async Task Grains_are_collected_when_idle_for_the_collection_age_and_busy_ones_are_not()
    {
        var clock = new ManualTimeProvider();
        await using var silo = await TestSilo.StartAsync(
            silo => silo.Configure<GrainCollectionOptions>(o =>
            {
                o.CollectionAge = TimeSpan.FromMinutes(5);
                o.CollectionQuantum = TimeSpan.FromMinutes(1);
            }),
            clock);
        var idleKey = "idle-" + Guid.NewGuid();
        var busyKey = "busy-" + Guid.NewGuid();
        var gate = "collect-" + Guid.NewGuid();
        var idle = silo.Grains.GetGrain<ILifecycleGrain>(idleKey);
        var busy = silo.Grains.GetGrain<ILifecycleGrain>(busyKey);
        var shortKey = "short-" + Guid.NewGuid();
        var keptKey = "kept-" + Guid.NewGuid();
        await idle.ActivationId();
        await silo.Grains.GetGrain<IShortLivedGrain>(shortKey).Touch();
        await silo.Grains.GetGrain<IKeptAliveGrain>(keptKey).Touch();
        var blocked = busy.Block(gate);

        for (var minute = 0; minute < 4; minute++) clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.True(() => LifecycleGrain.Deactivations.ContainsKey(shortKey), "the [CollectionAgeLimit(2 min)] grain to be collected");
        Assert.False(LifecycleGrain.Deactivations.ContainsKey(idleKey), "collected before its age");

        for (var minute = 0; minute < 4; minute++) clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.True(() => LifecycleGrain.Deactivations.ContainsKey(idleKey), "the idle grain to be collected");
        Assert.Equal(DeactivationReasonCode.IdleCollection, LifecycleGrain.Deactivations[idleKey]);
        Assert.False(LifecycleGrain.Deactivations.ContainsKey(busyKey), "a grain in the middle of a call was collected");
        Assert.False(LifecycleGrain.Deactivations.ContainsKey(keptKey), "a [KeepAlive] grain was collected");

        Gates.Open(gate);
        await blocked;
        for (var minute = 0; minute < 7; minute++) clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.True(() => LifecycleGrain.Deactivations.ContainsKey(busyKey), "the formerly busy grain to be collected once idle");
    }

    [Fact]
    public async Task Timers_tick_without_overlap_and_stop_on_deactivation()
    {
        var clock = new ManualTimeProvider();
        await using var silo = await TestSilo.StartAsync(time: clock);
        var key = Guid.NewGuid().ToString();
        var gates = "timer-" + key;
        var grain = silo.Grains.GetGrain<ITimerGrain>(key);
        await grain.StartTimer(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), gates);

        clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(() => TimerGrain.Ticks.GetValueOrDefault(key) == 1, "the first tick");

        // The first tick is still running: however far time moves, no second tick may start.
        clock.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.Equal(1, TimerGrain.Ticks[key]);

        // The next tick is scheduled one period after the first finishes; when exactly the runtime re-arms the timer
        // depends on thread scheduling, so keep moving time one period at a time until the second tick arrives.
        Gates.Open($"{gates}/1");
        var deadline = Environment.TickCount64 + 5000;
        while (TimerGrain.Ticks.GetValueOrDefault(key) < 2 && Environment.TickCount64 < deadline)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
        Assert.True(TimerGrain.Ticks.GetValueOrDefault(key) == 2, "the second tick did not come after the first finished");
        Gates.Open($"{gates}/2");
        Assert.Equal(1, TimerGrain.MaxOverlap[key]);

        await grain.Deactivate();
        await Eventually.True(() => !silo.Catalog.IsActive(new GrainId(typeof(TimerGrain).FullName!, key)), "the timer grain to deactivate");
        var ticksAtDeactivation = TimerGrain.Ticks[key];
        clock.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(100);
        Assert.Equal(ticksAtDeactivation, TimerGrain.Ticks[key]);
    }

    [Fact]
    public async Task A_timer_registered_during_activation_starts_ticking_after_activation()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Grains.GetGrain<IEarlyTimerGrain>(Guid.NewGuid().ToString());
        await grain.Ticks();
        var deadline = Environment.TickCount64 + 5000;
        while (await grain.Ticks() < 3 && Environment.TickCount64 < deadline) await Task.Delay(20);
        Assert.True(await grain.Ticks() >= 3, "the timer registered in OnActivateAsync never ticked repeatedly");
    }

    [Fact]
    public async Task A_failed_activation_fails_the_waiting_calls_and_the_next_call_activates_again()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Grains.GetGrain<IFlakyActivationGrain>(Guid.NewGuid().ToString());
        var first = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Hello());
        Assert.Equal("cannot activate yet", first.Message);
        Assert.Equal("hello", await grain.Hello());
    }

    [Fact]
    public async Task A_grain_naming_an_unregistered_storage_provider_stops_start_up_with_the_fix()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestSilo.StartAsync(defaultStorage: false));
        Assert.Contains("CounterGrain", error.Message);
        Assert.Contains("'Default'", error.Message);
        Assert.Contains("AddMemoryGrainStorageAsDefault", error.Message);
    }

    [Fact]
    public async Task Invalid_options_fail_start_up_with_a_message_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestSilo.StartAsync(
            silo => silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.Zero)));
        Assert.Contains("CollectionAge must be positive", error.Message);
    }

    [Fact]
    public async Task Stateless_workers_run_in_a_bounded_local_pool()
    {
        await using var silo = await TestSilo.StartAsync();
        var worker = silo.Grains.GetGrain<IWorkerGrain>("pool");
        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => worker.Work(100)));
        var distinct = ids.Distinct().Count();
        Assert.InRange(distinct, 2, 2);
    }
}
