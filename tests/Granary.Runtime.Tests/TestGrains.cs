using Granary.Runtime;

namespace Granary.Runtime.Tests;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);
    ValueTask<int> Get();
    Task Reset();
    ValueTask Touch();
}

public sealed class CounterState
{
    public int Value { get; set; }
}

public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task<int> Add(int amount)
    {
        state.State.Value += amount;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public ValueTask<int> Get() => new(state.State.Value);

    public Task Reset() => state.ClearStateAsync();

    public ValueTask Touch() => default;
}
