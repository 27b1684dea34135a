using System.Text.Encodings.Web;
using System.Text.Json;
using Granary.Gateway.Catalog;
using Granary.Gateway.Grpc;
using Granary.Gateway.FeatureHealth;
using Granary.Gateway.Metrics;
using Granary.Gateway.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StatusCode = Grpc.Core.StatusCode;

namespace Granary.Gateway;

/// <summary>Maps the gateway's endpoints and answers REST errors the one way (<see cref="GatewayErrors"/>).</summary>
public static partial class GatewayEndpoints
{
    /// <summary>
    /// Maps Feast's REST API, the push endpoints (when built with the push grain), the gRPC services (Feast serving and registry, Granary), the gRPC health
    /// service, server reflection, <c>/metrics</c>, and the feature catalog (API, UI, Orleans dashboard).
    /// </summary>
    public static IEndpointRouteBuilder MapGranaryGateway(this IEndpointRouteBuilder app)
    {
        app.MapFeastRest();
        app.MapFeatureHealth();
        MapPush(app);
        Erasure.ErasureEndpoints.MapErasure(app);
        Quality.QuarantineEndpoints.MapQuarantine(app);
        app.MapGrpcService<FeastServingGrpcService>();
        app.MapGrpcService<GranaryGrpcService>();
        app.MapGrpcService<FeastRegistryGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapGranaryCatalog();
        app.MapGranaryMetrics();
        return app;
    }

    /// <summary>
    /// How the gateway writes JSON: quotes and apostrophes in messages stay readable (<c>'driver_id'</c>, not <c>\u0027</c>);
    /// the body is always application/json, never HTML, so the relaxed encoder is safe here.
    /// </summary>
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Maps <c>/push</c> and <c>/write-to-online-store</c>; implemented in Push/ (needs the push grain).</summary>
    static partial void MapPush(IEndpointRouteBuilder app);

    /// <summary>
    /// Runs <paramref name="handler"/>, answering any error as Granary's JSON error object with the status of its kind; never a bare 500.
    /// The request is bounded by <see cref="GatewayOptions.RequestTimeout"/> unless <paramref name="limited"/> is false.
    /// </summary>
    public static RequestDelegate Guard(RequestDelegate handler, bool limited = true) => Guard(handler, feast: false, limited);

    /// <summary>
    /// <see cref="Guard(RequestDelegate, bool)"/> for Feast's routes: errors in Feast's body and status
    /// (<see cref="GatewayError.WriteFeastAsync"/>), Granary's in strict mode (<see cref="FeastCompatibility.IsStrict"/>).
    /// </summary>
    public static RequestDelegate FeastGuard(RequestDelegate handler, bool limited = true) => Guard(handler, feast: true, limited);

    private static RequestDelegate Guard(RequestDelegate handler, bool feast, bool limited) => async context =>
    {
        var client = context.RequestAborted;
        using var limit = limited ? CancellationTokenSource.CreateLinkedTokenSource(client) : null;
        var timeout = limited ? context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RequestTimeout : Timeout.InfiniteTimeSpan;
        if (limit is not null)
        {
            limit.CancelAfter(timeout);
            // Handlers pass RequestAborted to their grain calls, so the limit also stops the work behind the answer.
            context.RequestAborted = limit.Token;
        }
        try
        {
            // The answer goes out at the limit even if the handler's work does not notice the token.
            await (limit is null ? handler(context) : handler(context).WaitAsync(limit.Token));
        }
        catch (OperationCanceledException) when (client.IsCancellationRequested)
        {
            // The client went away; nobody reads an answer.
        }
        catch (OperationCanceledException) when (limit?.IsCancellationRequested == true)
        {
            if (context.Response.HasStarted)
            {
                // Part of the answer is out: end the exchange so the client sees a broken response, not a short one.
                context.Abort();
                return;
            }
            var error = new GatewayError(StatusCodes.Status504GatewayTimeout, StatusCode.DeadlineExceeded, "RequestTimeout",
                $"{context.Request.Method} {GatewayErrors.Echo(context.Request.Path.Value)}: the gateway's limit of {timeout.TotalSeconds:0.###} s per request passed before it answered",
                "retry, ask for fewer entities or features, or raise Granary:Gateway:RequestTimeout");
            await WriteErrorAsync(context, error, feast);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var error = GatewayErrors.From(e);
            if (error.HttpStatus >= 500 && error.Class == "InternalError")
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Granary.Gateway").LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, error, feast);
        }
        finally
        {
            context.RequestAborted = client;
        }
    };

    private static Task WriteErrorAsync(HttpContext context, GatewayError error, bool feast)
        => feast && !FeastCompatibility.IsStrict(context) ? error.WriteFeastAsync(context.Response) : error.WriteAsync(context.Response);
}
