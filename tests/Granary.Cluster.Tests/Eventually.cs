using System.Diagnostics;

namespace Granary.Cluster.Tests;

/// <summary>Polls a condition that the cluster reaches asynchronously (gossip, probing, timers).</summary>
public static class Eventually
{
    public static async Task WaitUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > limit) throw new TimeoutException($"Not true within {limit}: {what}");
            await Task.Delay(20);
        }
    }
}
