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
    /// <summary>Adds the online request metrics middleware at the start of the pipeline (once).</summary>
    public static IServiceCollection AddGranaryRequestMetrics(this IServiceCollection services)
    {
        PrometheusExport.Configure();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, OnlineRequestMetricsStartupFilter>());
        return services;
    }

    /// <summary>
    /// Maps <c>GET /metrics</c>: every System.Diagnostics.Metrics meter of the process (Granary's, Orleans', ASP.NET Core's,
    /// the runtime's) in Prometheus' text format, through prometheus-net's default registry.
    /// </summary>
    public static IEndpointConventionBuilder MapGranaryMetrics(this IEndpointRouteBuilder app)
    {
        PrometheusExport.Configure();
        return app.MapMetrics();
    }
}
