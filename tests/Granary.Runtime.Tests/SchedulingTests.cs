namespace Granary.Runtime.Tests;

public sealed class SchedulingTests
{
    [Fact]
    public async Task Parallel_calls_to_one_grain_never_interleave()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Grains.GetGrain<ISerialGrain>(Guid.NewGuid().ToString());
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => grain.Work(30)));
        Assert.Equal(1, await grain.MaxConcurrentCalls());
        Assert.False(await grain.ThreadsOverlapped());
    }

    [Fact]
    public async Task Parallel_increments_of_persistent_state_are_never_lost()
    {
        await using var silo = await TestSilo.StartAsync();
        var counter = silo.Grains.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => counter.Add(1))));
        Assert.Equal(200, await counter.Get());
    }

    [Fact]
    public async Task Reentrant_grains_interleave_calls_but_still_run_one_thread_at_a_time()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Grains.GetGrain<IReentrantGrain>(Guid.NewGuid().ToString());
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => grain.Work(250))));
        Assert.True(await grain.MaxConcurrentCalls() > 1, "a [Reentrant] grain should interleave awaiting calls");
        Assert.False(await grain.ThreadsOverlapped(), "two threads ran grain code at the same time");
    }

    [Fact]
    public async Task Read_only_calls_interleave_with_each_other_but_not_with_writes()
    {
        await using var silo = await TestSilo.StartAsync();
        var readers = silo.Grains.GetGrain<ISerialGrain>(Guid.NewGuid().ToString());
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => readers.ReadWork(250)));
        Assert.True(await readers.MaxConcurrentCalls() > 1, "[ReadOnly] calls should interleave");
        Assert.False(await readers.ThreadsOverlapped());

        var mixed = silo.Grains.GetGrain<ISerialGrain>(Guid.NewGuid().ToString());
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? mixed.Work(30) : mixed.ReadWork(30)));
        Assert.Equal(1, await mixed.MaxConcurrentCalls());
    }

    [Fact]
    public async Task Always_interleave_calls_run_while_another_call_awaits()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Grains.GetGrain<ISerialGrain>(Guid.NewGuid().ToString());
        // Generous: the interleaved call must finish inside the slow one even on a loaded CI machine.
        var slow = grain.Work(3000);
        await Task.Delay(30);
        await grain.InterleavedWork(10);
        Assert.False(slow.IsCompleted, "the interleaved call should have finished while the slow one was still running");
        await slow;
        Assert.Equal(2, await grain.MaxConcurrentCalls());
    }

    [Fact]
    public async Task A_calling_B_calling_A_times_out_unless_A_is_reentrant()
    {
        await using var silo = await TestSilo.StartAsync(silo => silo.Configure<Configuration.MessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(2)));
        var a = silo.Grains.GetGrain<IChainGrain>("a-" + Guid.NewGuid());
        await Assert.ThrowsAsync<TimeoutException>(() => a.Start("b-" + Guid.NewGuid()));

        var reentrantA = silo.Grains.GetGrain<IReentrantChainGrain>("ra-" + Guid.NewGuid());
        Assert.StartsWith("pong from ra-", await reentrantA.Start("b-" + Guid.NewGuid()));
    }
}
