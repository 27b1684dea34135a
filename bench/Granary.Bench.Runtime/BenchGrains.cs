using Granary.Runtime;

namespace Granary.Bench.Runtime;

/// <summary>The trivial method: returns its argument plus one.</summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    ValueTask<int> Ping(int value);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public ValueTask<int> Ping(int value) => new(value + 1);
}

/// <summary>A method that writes the grain's state to storage before returning.</summary>
public interface IStoreGrain : IGrainWithIntegerKey
{
    Task<int> Save(int value);
}

public sealed class StoreState
{
    public int Value { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class StoreGrain([PersistentState("bench", "redis")] IPersistentState<StoreState> state) : Grain, IStoreGrain
{
    public async Task<int> Save(int value)
    {
        state.State.Value = value;
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        return value;
    }
}
