using Orleans.Runtime;

namespace Granary.Grains.Diagnostics;

/// <summary>A counter whose value is written to the silo's default grain storage on every increment.</summary>
[Alias("granary.diagnostics.counter")]
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one, stores the new value, and answers it once stored.</summary>
    [Alias("increment")]
    Task<long> Increment();

    /// <summary>The stored value (0 for a counter never incremented).</summary>
    [Alias("get")]
    Task<long> Get();
}

/// <summary>The counter's persisted state.</summary>
[GenerateSerializer, Alias("granary.diagnostics.counter-state")]
public sealed class CounterState
{
    /// <summary>The count so far.</summary>
    [Id(0)] public long Value { get; set; }
}

/// <inheritdoc cref="ICounterGrain"/>
[GrainType("granary.diagnostics.counter")]
public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    /// <inheritdoc/>
    public async Task<long> Increment()
    {
        state.State.Value++;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored, not counted: a caller retrying after a storage outage must not count twice.
            state.State.Value--;
            throw;
        }
        return state.State.Value;
    }

    /// <inheritdoc/>
    public Task<long> Get() => Task.FromResult(state.State.Value);
}
