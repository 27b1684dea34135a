using Granary.Observability;
using Prometheus;

namespace Granary.Observability;

/// <summary>
/// How every Granary host (the gateway and the silo) exports meters through prometheus-net: set
/// once per process, before anything is recorded.
/// </summary>
public static class PrometheusExport
{
    /// <summary>
    /// Buckets of Granary's histograms, in seconds: fine around the 10 ms default latency SLA so that
    /// <c>histogram_quantile(0.99, ...)</c> is close there.
    /// </summary>
    public static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// Series that get no new measurement for this long are dropped by prometheus-net's adapter; its maximum. Granary's
    /// counters and gauges are observable (renewed at every scrape), so this only affects histograms and Orleans' meters.
    /// </summary>
    public static readonly TimeSpan SeriesLifetime = TimeSpan.FromDays(1);

    private static int _configured;

    /// <summary>Configures the meter adapter and starts it now (idempotent).</summary>
    public static void Configure()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        Prometheus.Metrics.ConfigureMeterAdapter(o =>
        {
            var defaults = o.ResolveHistogramBuckets;
            o.ResolveHistogramBuckets = instrument => instrument.Meter.Name == GranaryMetrics.MeterName ? LatencyBuckets : defaults(instrument);
            o.MetricsExpireAfter = SeriesLifetime;
        });
        // prometheus-net starts its adapters on the first collection, so measurements made before the first scrape would be
        // lost (a materialization or the first requests after start-up): collect once, into nothing, to start them now.
        Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
    }
}
