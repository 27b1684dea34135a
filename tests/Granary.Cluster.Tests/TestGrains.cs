using System.Collections.Concurrent;

namespace Granary.Cluster.Tests;

/// <summary>A grain that counts the ticks of one reminder (the count lives outside the grain: it may move silos).</summary>
[Alias("granary.tests.tick")]
public interface ITickGrain : IGrainWithStringKey
{
    [Alias("start")] Task Start(TimeSpan period);
    [Alias("stop")] Task Stop();
}

[GrainType("granary.tests.tick")]
public sealed class TickGrain : Grain, ITickGrain, IRemindable
{
    public static ConcurrentDictionary<string, int> Ticks { get; } = new();

    public Task Start(TimeSpan period) => this.RegisterOrUpdateReminder("tick", period, period);

    public async Task Stop()
    {
        if (await this.GetReminder("tick") is { } reminder) await this.UnregisterReminder(reminder);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate(this.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}
