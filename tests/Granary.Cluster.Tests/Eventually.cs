using System.Diagnostics;

namespace Granary.Cluster.Tests;

/// <summary>Polls a condition the cluster reaches asynchronously (joining, probing, reminders).</summary>
public static class Eventually
{
    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > limit) throw new TimeoutException($"Not true within {limit}: {what}");
            await Task.Delay(50);
        }
    }

    public static Task WaitUntil(Func<bool> condition, TimeSpan limit, string what) =>
        WaitUntil(() => Task.FromResult(condition()), limit, what);
}
