using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Limits;

/// <summary>
/// Per-principal token buckets (System.Threading.RateLimiting): a principal is the authenticated identity's name, or the
/// remote address for anonymous callers. A request over its bucket is answered at once: 429 with <c>Retry-After</c>
/// (REST), RESOURCE_EXHAUSTED with the same header (gRPC). <c>/health</c> and the gRPC health service are never limited.
/// It also names the body-size setting in gRPC's own over-the-limit message.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext>? _limiter;
    private readonly GatewayLimitsOptions _options;
    private readonly long _bodyLimit;

    /// <summary>Buckets as <see cref="GatewayOptions.Limits"/> sets them (none when rate limiting is off).</summary>
    public RateLimits(IOptions<GatewayOptions> options)
    {
        _options = options.Value.Limits;
        _bodyLimit = options.Value.MaxRequestBodyBytes;
        if (!_options.RateLimited) return;
        var perSecond = _options.RequestsPerSecond;
        var size = _options.Burst > 0 ? _options.Burst : perSecond;
        _limiter = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetTokenBucketLimiter(PrincipalKey(context), _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = size, TokensPerPeriod = perSecond, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0, AutoReplenishment = true,
        }));
    }

    /// <summary>Whom a request is counted against: <c>principal:&lt;name&gt;</c>, or <c>address:&lt;ip&gt;</c> without an identity.</summary>
    public static string PrincipalKey(HttpContext context)
        => context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? "principal:" + name : "address:" + context.Connection.RemoteIpAddress;

    /// <summary>The middleware: passes the request on, or answers it as over the limit.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (_limiter is null || IsHealth(context.Request.Path))
        {
            await PassAsync(context, next);
            return;
        }
        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired)
        {
            await PassAsync(context, next);
            return;
        }
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var message = $"rate limit exceeded: {_options.RequestsPerSecond} requests per second (burst {(_options.Burst > 0 ? _options.Burst : _options.RequestsPerSecond)}) " +
                      $"for {PrincipalKey(context)}; retry after {seconds} s";
        const string hint = "slow down, or raise Granary:Gateway:Limits:RequestsPerSecond / Burst";
        context.Response.Headers.RetryAfter = seconds;
        if (IsGrpc(context))
        {
            // A trailers-only gRPC answer: the status travels in the headers.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)global::Grpc.Core.StatusCode.ResourceExhausted).ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString($"{message} (hint: {hint})");
            return;
        }
        await new GatewayError(StatusCodes.Status429TooManyRequests, global::Grpc.Core.StatusCode.ResourceExhausted, "RateLimited", message, hint).WriteAsync(context.Response);
    }

    private async Task PassAsync(HttpContext context, RequestDelegate next)
    {
        var grpc = IsGrpc(context);
        // gRPC messages are bounded by gRPC's receive limit (the same size), which answers RESOURCE_EXHAUSTED; Kestrel's
        // body limit would fail the read under the handler, which gRPC answers UNKNOWN.
        if (grpc && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = null;
        await next(context);
        if (grpc) NameBodyLimit(context);
    }

    private static bool IsGrpc(HttpContext context) => context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;

    // gRPC refuses a message over its receive limit before any interceptor runs, with a message that names no setting;
    // the answer is not sent yet, so its message is replaced by one that names the limit and the setting.
    private const string GrpcSizeMessage = "Received message exceeds the maximum configured message size";

    private void NameBodyLimit(HttpContext context)
    {
        var message = $"the request message is larger than this gateway accepts ({_bodyLimit:N0} bytes, limit MaxRequestBodyBytes) " +
                      "(hint: send fewer entity rows per request, or raise Granary:Gateway:MaxRequestBodyBytes)";
        foreach (var headers in new[] { context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers, context.Response.HasStarted ? null : context.Response.Headers })
        {
            if (headers is null || headers.IsReadOnly) continue;
            if (headers["grpc-status"] == "8" && Uri.UnescapeDataString(headers["grpc-message"].ToString()).StartsWith(GrpcSizeMessage, StringComparison.Ordinal))
                headers["grpc-message"] = Uri.EscapeDataString(message);
        }
    }

    private static bool IsHealth(PathString path)
        => path.StartsWithSegments("/health") || path.StartsWithSegments("/grpc.health.v1.Health");

    /// <inheritdoc/>
    public void Dispose() => _limiter?.Dispose();
}

/// <summary>Puts the rate limits in the pipeline ahead of the endpoints (after whatever authenticates, when that is registered first).</summary>
internal sealed class RateLimitsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var limits = (RateLimits)app.ApplicationServices.GetService(typeof(RateLimits))!;
        app.Use(inner => context => limits.InvokeAsync(context, inner));
        next(app);
    };
}
