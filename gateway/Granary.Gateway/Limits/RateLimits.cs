using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Limits;

/// <summary>
/// Per-principal token buckets (System.Threading.RateLimiting): a principal is the authenticated identity's name, or the
/// remote address for anonymous callers. A request over its bucket is answered at once: 429 with <c>Retry-After</c>
/// (REST), RESOURCE_EXHAUSTED with the same header (gRPC). <c>/health</c> and the gRPC health service are never limited.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext>? _limiter;
    private readonly GatewayLimitsOptions _options;

    /// <summary>Buckets as <see cref="GatewayOptions.Limits"/> sets them (none when rate limiting is off).</summary>
    public RateLimits(IOptions<GatewayOptions> options)
    {
        _options = options.Value.Limits;
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
            await next(context);
            return;
        }
        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired)
        {
            await next(context);
            return;
        }
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var message = $"rate limit exceeded: {_options.RequestsPerSecond} requests per second (burst {(_options.Burst > 0 ? _options.Burst : _options.RequestsPerSecond)}) " +
                      $"for {PrincipalKey(context)}; retry after {seconds} s";
        const string hint = "slow down, or raise Granary:Gateway:Limits:RequestsPerSecond / Burst";
        context.Response.Headers.RetryAfter = seconds;
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
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
        var limits = app.ApplicationServices.GetService(typeof(RateLimits)) as RateLimits;
        if (limits is not null) app.Use(inner => context => limits.InvokeAsync(context, inner));
        next(app);
    };
}
