using System.Collections.Frozen;
using System.Diagnostics;
using Granary.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Granary.Gateway.Metrics;

/// <summary>
/// Times the gateway's online endpoints (REST and gRPC reads and pushes) and counts them by outcome into
/// <see cref="GranaryMetrics"/>. A middleware rather than per-handler code, so it also sees answers written by the error
/// paths (the REST guard, the gRPC error interceptor). Only paths on a fixed list are recorded: label values stay bounded
/// whatever paths clients send.
/// </summary>
public sealed class OnlineRequestMetrics(RequestDelegate next)
{
    /// <summary>Recorded paths: the endpoint label and the protocol of each.</summary>
    private static readonly FrozenDictionary<string, (string Endpoint, string Protocol)> Endpoints = new Dictionary<string, (string, string)>
    {
        ["/get-online-features"] = ("get-online-features", "rest"),
        ["/push"] = ("push", "rest"),
        ["/write-to-online-store"] = ("write-to-online-store", "rest"),
        ["/feast.serving.ServingService/GetOnlineFeatures"] = ("feast.serving.ServingService/GetOnlineFeatures", "grpc"),
        ["/granary.gateway.v1.Granary/GetOnlineFeatures"] = ("granary.gateway.v1.Granary/GetOnlineFeatures", "grpc"),
        ["/granary.gateway.v1.Granary/Push"] = ("granary.gateway.v1.Granary/Push", "grpc"),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    // gRPC's canonical status names by code (grpc/doc/statuscodes.md).
    private static readonly string[] GrpcStatusNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    ];

    private static readonly string[] HttpClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    /// <summary>Runs the rest of the pipeline, recording the request when its path is an online endpoint.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        if (!Endpoints.TryGetValue(context.Request.Path.Value ?? "", out var endpoint))
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await next(context);
            failed = false;
        }
        finally
        {
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var status = endpoint.Protocol == "grpc" ? GrpcStatus(context, failed) : HttpClass(failed ? 500 : context.Response.StatusCode);
            GranaryMetrics.RecordRequest(endpoint.Endpoint, endpoint.Protocol, status, seconds);
        }
    }

    private static string HttpClass(int status) => status is >= 100 and < 600 ? HttpClasses[status / 100 - 1] : "5xx";

    private static string GrpcStatus(HttpContext context, bool failed)
    {
        if (failed) return "INTERNAL";
        // A normal answer carries grpc-status in the trailers; a trailers-only answer (an error before any message) in the headers.
        var value = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString();
        if (string.IsNullOrEmpty(value)) value = context.Response.Headers["grpc-status"].ToString();
        if (int.TryParse(value, out var code) && code >= 0 && code < GrpcStatusNames.Length) return GrpcStatusNames[code];
        // No gRPC status at all: the HTTP layer refused the call (e.g. not HTTP/2).
        return context.Response.StatusCode == StatusCodes.Status200OK ? "UNKNOWN" : "UNAVAILABLE";
    }
}

/// <summary>Puts <see cref="OnlineRequestMetrics"/> first in the pipeline, so whatever the host maps after it is timed.</summary>
internal sealed class OnlineRequestMetricsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<OnlineRequestMetrics>();
        next(app);
    };
}
