using Granary.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace Granary.Gateway.Metrics;

/// <summary>Prometheus metrics for Granary's hosts: the request instrumentation and <c>/metrics</c> (prometheus-net).</summary>
public static class GatewayMetricsExtensions
{
    /// <summary>
    /// Latency histogram buckets of Granary's histograms, in seconds: fine around the 10 ms default latency SLA so
    /// <c>histogram_quantile(0.99, ...)</c> is exact enough there.
    /// </summary>
    public static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Adds the online request metrics middleware at the start of the pipeline (once).</summary>
    public static IServiceCollection AddGranaryRequestMetrics(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, OnlineRequestMetricsStartupFilter>());
        return services;
    }

    /// <summary>
    /// Maps <c>GET /metrics</c>: every System.Diagnostics.Metrics meter of the process (Granary's, Orleans', ASP.NET Core's,
    /// the runtime's) in Prometheus' text format, through prometheus-net's default registry.
    /// </summary>
    public static IEndpointConventionBuilder MapGranaryMetrics(this IEndpointRouteBuilder app)
    {
        ConfigureExport();
        return app.MapMetrics();
    }

    private static int _configured;

    /// <summary>Sets the histogram buckets of Granary's meter once per process (prometheus-net's adapter is process-wide).</summary>
    public static void ConfigureExport()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        Prometheus.Metrics.ConfigureMeterAdapter(o =>
        {
            var defaults = o.ResolveHistogramBuckets;
            o.ResolveHistogramBuckets = instrument => instrument.Meter.Name == GranaryMetrics.MeterName ? LatencyBuckets : defaults(instrument);
        });
    }
}
