using System.Diagnostics;
using Granary.Runtime;
using Granary.Runtime.Cluster.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Bench.Cluster;

public interface IEchoGrain : IGrainWithIntegerKey
{
    ValueTask<int> Echo(int value);
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    public ValueTask<int> Echo(int value) => new(value);
}

/// <summary>Latency samples and count of one measured run.</summary>
public sealed record RunResult(long Calls, double Seconds, long[] LatencyMicros);

public interface IDriverGrain : IGrainWithStringKey
{
    /// <summary>Calls echo grains owned by other silos from <paramref name="concurrency"/> loops for <paramref name="durationMs"/>.</summary>
    [ResponseTimeout("00:05:00")]
    Task<RunResult> Run(int concurrency, int durationMs);
}

public sealed class DriverGrain : Grain, IDriverGrain
{
    public async Task<RunResult> Run(int concurrency, int durationMs)
    {
        var silo = GrainContext.Services.GetRequiredService<ClusterSilo>();
        var echoType = typeof(EchoGrain).FullName!;
        // Echo grains this silo does not own: every measured call crosses to another silo process.
        var remote = Enumerable.Range(0, 100_000)
            .Where(k => silo.View.Ring.OwnerOf(new GrainId(echoType, k.ToString(System.Globalization.CultureInfo.InvariantCulture))) != silo.Address)
            .Take(1000)
            .Select(k => GrainFactory.GetGrain<IEchoGrain>(k))
            .ToArray();
        return await Load.RunAsync(remote, concurrency, TimeSpan.FromMilliseconds(durationMs));
    }
}

/// <summary>Closed-loop load: each loop awaits its call before making the next.</summary>
public static class Load
{
    public static async Task<RunResult> RunAsync(IEchoGrain[] targets, int concurrency, TimeSpan duration)
    {
        var samples = new List<long>[concurrency];
        var stop = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, concurrency).Select(loop => Task.Run(async () =>
        {
            var mine = samples[loop] = new List<long>(1 << 16);
            var i = loop;
            while (stop.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await targets[i++ % targets.Length].Echo(i);
                mine.Add((Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency);
            }
        })).ToArray();
        await Task.WhenAll(loops);
        var seconds = stop.Elapsed.TotalSeconds;
        var all = samples.SelectMany(s => s).ToArray();
        // Keep the payload small: a uniform subsample is enough for percentiles.
        var step = Math.Max(1, all.Length / 20_000);
        var kept = all.Where((_, index) => index % step == 0).ToArray();
        return new RunResult(all.Length, seconds, kept);
    }

    public static (double P50, double P99) Percentiles(IEnumerable<long> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0) return (0, 0);
        return (sorted[(int)(sorted.Length * 0.50)], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))]);
    }
}
