using System.Diagnostics;
using Orleans.Placement;

namespace Granary.Grains.Diagnostics;

/// <summary>
/// Drives silo-to-silo load from inside the cluster: concurrent loops of ping calls from this silo to ping grains that
/// live on other silos. Placed on the silo that first calls it, so a client picks the driving silo by key.
/// </summary>
[Alias("granary.diagnostics.load-driver")]
public interface ILoadDriverGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs <paramref name="loops"/> concurrent call loops for <paramref name="duration"/> over those of
    /// <paramref name="targetKeys"/> whose ping grains are active on another silo, and answers the figures.
    /// </summary>
    [Alias("drive")]
    Task<LoadFigures> Drive(string[] targetKeys, int loops, TimeSpan duration);

    /// <summary>The identity of the silo this driver runs on.</summary>
    [Alias("silo")]
    Task<string> Silo();
}

/// <summary>What a load run measured: calls made, seconds spent, latency percentiles in microseconds.</summary>
[GenerateSerializer, Immutable, Alias("granary.diagnostics.load-figures")]
public sealed record LoadFigures(
    [property: Id(0)] long Calls,
    [property: Id(1)] double Seconds,
    [property: Id(2)] double P50Microseconds,
    [property: Id(3)] double P99Microseconds,
    [property: Id(4)] int RemoteTargets)
{
    /// <summary>Calls per second.</summary>
    public double CallsPerSecond => Seconds > 0 ? Calls / Seconds : 0;

    /// <summary>Summarizes per-loop latency samples (Stopwatch ticks) of a run that lasted <paramref name="seconds"/>.</summary>
    public static LoadFigures Summarize(IEnumerable<List<long>> latencies, double seconds, int remoteTargets)
    {
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Percentile(double p) => all.Length == 0 ? 0 : all[(int)Math.Min(all.Length - 1, p * all.Length)] * 1e6 / Stopwatch.Frequency;
        return new LoadFigures(all.Length, seconds, Percentile(0.50), Percentile(0.99), remoteTargets);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{CallsPerSecond,12:N0} calls/s   p50 {P50Microseconds,8:N1} us   p99 {P99Microseconds,9:N1} us   ({Calls:N0} calls in {Seconds:0.0} s)";
}

/// <inheritdoc cref="ILoadDriverGrain"/>
[GrainType("granary.diagnostics.load-driver"), PreferLocalPlacement]
public sealed class LoadDriverGrain : Grain, ILoadDriverGrain
{
    /// <inheritdoc/>
    public async Task<LoadFigures> Drive(string[] targetKeys, int loops, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        var here = RuntimeIdentity;
        var targets = targetKeys.Select(key => GrainFactory.GetGrain<IPingGrain>(key)).ToArray();
        var owners = await Task.WhenAll(targets.Select(t => t.Ping()));
        var remote = targets.Where((_, i) => owners[i] != here).ToList();
        if (remote.Count == 0)
        {
            throw new InvalidOperationException($"None of the {targetKeys.Length} target grains lives on another silo than {here}; start more silos or pass more keys.");
        }

        var latencies = new List<long>[loops];
        var watch = Stopwatch.StartNew();
        var end = duration.Ticks;
        var tasks = new Task[loops];
        for (var loop = 0; loop < loops; loop++)
        {
            var mine = latencies[loop] = new List<long>(1 << 16);
            var offset = loop;
            tasks[loop] = Task.Run(async () =>
            {
                var i = offset;
                while (watch.Elapsed.Ticks < end)
                {
                    var start = Stopwatch.GetTimestamp();
                    await remote[i++ % remote.Count].Touch();
                    mine.Add(Stopwatch.GetTimestamp() - start);
                }
            });
        }
        await Task.WhenAll(tasks);
        return LoadFigures.Summarize(latencies, watch.Elapsed.TotalSeconds, remote.Count);
    }

    /// <inheritdoc/>
    public Task<string> Silo() => Task.FromResult(RuntimeIdentity);
}
