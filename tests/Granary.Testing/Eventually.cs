using System.Diagnostics;

namespace Granary.Testing;

/// <summary>Polls a condition a server reaches asynchronously (joining, probing, reminders, expiry, reconnecting).</summary>
public static class Eventually
{
    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="limit"/>.</summary>
    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > limit) throw new TimeoutException($"Not true within {limit}: {what}");
            await Task.Delay(50);
        }
    }

    /// <inheritdoc cref="WaitUntil(Func{Task{bool}}, TimeSpan, string)"/>
    public static Task WaitUntil(Func<bool> condition, TimeSpan limit, string what) =>
        WaitUntil(() => Task.FromResult(condition()), limit, what);
}
