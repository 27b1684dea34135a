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

    /// <summary>Runs <paramref name="handler"/>, answering any error as Granary's JSON error object with the status of its kind; never a bare 500.</summary>
    public static RequestDelegate Guard(RequestDelegate handler) => Guard(handler, feast: false);

    /// <summary>
    /// <see cref="Guard(RequestDelegate)"/> for Feast's routes: errors in Feast's body and status
    /// (<see cref="GatewayError.WriteFeastAsync"/>), Granary's in strict mode (<see cref="FeastCompatibility.IsStrict"/>).
    /// </summary>
    public static RequestDelegate FeastGuard(RequestDelegate handler) => Guard(handler, feast: true);

    private static RequestDelegate Guard(RequestDelegate handler, bool feast) => async context =>
    {
        try
        {
            await handler(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody reads an answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var error = GatewayErrors.From(e);
            if (error.HttpStatus >= 500 && error.Class == "InternalError")
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Granary.Gateway").LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            if (feast && !FeastCompatibility.IsStrict(context)) await error.WriteFeastAsync(context.Response);
            else await error.WriteAsync(context.Response);
        }
    };
}
