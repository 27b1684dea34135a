using System.Collections.Concurrent;
using Granary.Runtime;
using Granary.Runtime.Cluster.Hosting;
using Granary.Runtime.Cluster.Testing;
using Granary.Runtime.Hosting;
using Granary.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Cluster.Tests;

public interface IClusterCounterGrain : IGrainWithStringKey
{
    /// <summary>Adds and persists before returning: a returned value is an acknowledged write.</summary>
    Task<int> Add(int amount);
    Task<int> Get();
    /// <summary>The silo running this activation.</summary>
    Task<string> WhereAmI();
    /// <summary>Waits (holding the turn) so a test can kill the silo mid-call.</summary>
    Task Hang(TimeSpan duration);
    Task Fail(string message);
}

public sealed class ClusterCounterState
{
    public int Value { get; set; }
}

/// <summary>Counts activations per grain key across every silo of the process.</summary>
public static class ActivationLog
{
    public static readonly ConcurrentDictionary<string, int> Activations = new();
}

public sealed class ClusterCounterGrain([PersistentState("counter")] IPersistentState<ClusterCounterState> state) : Grain, IClusterCounterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ActivationLog.Activations.AddOrUpdate(GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public async Task<int> Add(int amount)
    {
        state.State.Value += amount;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> Get() => Task.FromResult(state.State.Value);

    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Services.GetRequiredService<ClusterSilo>().Address.ToString());

    public Task Hang(TimeSpan duration) => Task.Delay(duration);

    public Task Fail(string message) => throw new InvalidOperationException(message);
}

public interface IReminderCounterGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);
    Task Stop();
}

/// <summary>Records every reminder tick, with the silo that delivered it.</summary>
public static class ReminderLog
{
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<(DateTimeOffset At, string Silo)>> Ticks = new();
}

public sealed class ReminderCounterGrain : Grain, IReminderCounterGrain, IRemindable
{
    public Task Start(TimeSpan period) => this.RegisterOrUpdateReminder("tick", period, period);

    public Task Stop() => this.UnregisterReminder("tick");

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var silo = GrainContext.Services.GetRequiredService<ClusterSilo>().Address.ToString();
        ReminderLog.Ticks.GetOrAdd(GetPrimaryKeyString(), _ => new()).Enqueue((DateTimeOffset.UtcNow, silo));
        return Task.CompletedTask;
    }
}

/// <summary>A test cluster whose silos share one memory storage (it stands for Redis: state outlives any silo).</summary>
public interface IRelayGrain : IGrainWithStringKey
{
    /// <summary>Adds through <paramref name="target"/> (a reference received as an argument) and returns a reference to <paramref name="nextKey"/>.</summary>
    Task<IClusterCounterGrain> AddThroughAndHandOff(IClusterCounterGrain target, int amount, string nextKey);
}

public sealed class RelayGrain : Grain, IRelayGrain
{
    public async Task<IClusterCounterGrain> AddThroughAndHandOff(IClusterCounterGrain target, int amount, string nextKey)
    {
        await target.Add(amount);
        return GrainContext.GrainFactory.GetGrain<IClusterCounterGrain>(nextKey);
    }
}

public static class TestClusters
{
    public static InProcessTestCluster Create(MemoryGrainStorage? sharedStorage = null)
    {
        var storage = sharedStorage ?? new MemoryGrainStorage("Default");
        return new InProcessTestCluster(silo => RegisterGrains(silo).AddGrainStorage("Default", _ => storage));
    }

    public static ISiloBuilder RegisterGrains(ISiloBuilder silo) => silo
        .AddGrain<ClusterCounterGrain>()
        .AddGrain<ReminderCounterGrain>()
        .AddGrain<RelayGrain>();
}
