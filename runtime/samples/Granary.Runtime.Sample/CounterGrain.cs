using Granary.Runtime;

namespace Granary.Runtime.Sample;

/// <summary>A named counter.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds <paramref name="amount"/> and returns the new total (persisted before returning).</summary>
    Task<long> Add(long amount);

    /// <summary>The current total.</summary>
    [ReadOnly]
    ValueTask<long> Get();

    /// <summary>Deactivates the counter after this call, so the next call reloads it from storage.</summary>
    Task Deactivate();
}

/// <summary>The counter's persisted state.</summary>
public sealed class CounterState
{
    /// <summary>The running total.</summary>
    public long Total { get; set; }
}

/// <summary>A counter whose total survives deactivation.</summary>
public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> counter) : Grain, ICounterGrain
{
    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine($"  activated {GrainId}: total {counter.State.Total} loaded from storage (record exists: {counter.RecordExists})");
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<long> Add(long amount)
    {
        counter.State.Total += amount;
        await counter.WriteStateAsync();
        return counter.State.Total;
    }

    /// <inheritdoc/>
    public ValueTask<long> Get() => new(counter.State.Total);

    /// <inheritdoc/>
    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Console.WriteLine($"  deactivated {GrainId} ({reason.Code})");
        return Task.CompletedTask;
    }
}
