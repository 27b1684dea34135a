using System.Diagnostics;

namespace Granary.Bench.Runtime;

/// <summary>Latencies in 100 ns buckets up to 10 ms (coarser above), recorded without allocating.</summary>
public sealed class LatencyHistogram
{
    private const int FineBuckets = 100_000; // 100 ns each: 0 .. 10 ms
    private readonly long[] _fine = new long[FineBuckets];
    private readonly long[] _coarse = new long[1000]; // 1 ms each: 10 ms .. 1 s, last bucket = more
    private static readonly double TicksPer100Ns = Stopwatch.Frequency / 10_000_000.0;

    public long Count { get; private set; }

    public void Record(long elapsedStopwatchTicks)
    {
        Count++;
        var units = (long)(elapsedStopwatchTicks / TicksPer100Ns);
        if (units < FineBuckets) _fine[units]++;
        else _coarse[Math.Min(_coarse.Length - 1, (units - FineBuckets) / 10_000)]++;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _fine.Length; i++) _fine[i] += other._fine[i];
        for (var i = 0; i < _coarse.Length; i++) _coarse[i] += other._coarse[i];
        Count += other.Count;
    }

    /// <summary>The latency in microseconds below which <paramref name="percentile"/> % of samples fall.</summary>
    public double PercentileMicros(double percentile)
    {
        var target = (long)Math.Ceiling(Count * percentile / 100.0);
        long seen = 0;
        for (var i = 0; i < _fine.Length; i++)
        {
            seen += _fine[i];
            if (seen >= target) return (i + 1) / 10.0;
        }
        for (var i = 0; i < _coarse.Length; i++)
        {
            seen += _coarse[i];
            if (seen >= target) return 10_000 + (i + 1) * 1000.0;
        }
        return double.PositiveInfinity;
    }
}
