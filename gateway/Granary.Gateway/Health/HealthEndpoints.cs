using Granary.Gateway.Security;
using Granary.Core.Security;
using System.Text.Json;
using Granary.Definitions;
using Granary.Gateway.Rest;
using Granary.Grains.Health;
using Granary.FeatureHealth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.FeatureHealth;

/// <summary>
/// Feature health over REST: <c>POST /parity</c> and <c>POST /drift</c> run a check through the project's
/// <see cref="IFeatureHealthGrain"/>; <c>GET /api/health/parity</c> and <c>GET /api/health/drift</c> return the last result
/// per view (the shapes of <see cref="HealthJson"/>).
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Maps the four endpoints.</summary>
    public static IEndpointRouteBuilder MapFeatureHealth(this IEndpointRouteBuilder app)
    {
        app.MapPost("/parity", GatewayEndpoints.Guard(RunParityAsync, limited: false));
        app.MapGet("/api/health/parity", GatewayEndpoints.Guard(async context =>
        {
            var masks = await CheckViewsAsync(context, []);
            await WriteAsync(context, await Grain(context).GetParityAsync(), masks);
        }));
        app.MapPost("/drift", GatewayEndpoints.Guard(RunDriftAsync, limited: false));
        app.MapGet("/api/health/drift", GatewayEndpoints.Guard(async context =>
        {
            await CheckViewsAsync(context, []);
            await WriteAsync(context, await Grain(context).GetDriftAsync());
        }));
        return app;
    }

    // Body (all optional): {"views": ["a", "b"], "sample": 100, "seed": 12}.
    private static async Task RunParityAsync(HttpContext context)
    {
        var request = new ParityRequest();
        if (HasBody(context))
        {
            using var body = await FeastRestEndpoints.ReadBodyAsync(context);
            var root = body.RootElement;
            request = new ParityRequest
            {
                Views = FeastRestEndpoints.OptionalStrings(root, "views") ?? [],
                Sample = OptionalInt(root, "sample", 1, 1_000_000) ?? ParityRequest.DefaultSample,
                Seed = OptionalInt(root, "seed", int.MinValue, int.MaxValue) ?? ParityRequest.DefaultSeed,
            };
        }
        var masks = await CheckViewsAsync(context, request.Views);
        await WriteAsync(context, await Grain(context).RunParityAsync(request), masks);
    }

    // Body: {"baseline": "data/train.parquet", "window": "24h", "views": [...]}; baseline defaults to health.drift_baseline.
    private static async Task RunDriftAsync(HttpContext context)
    {
        using var body = HasBody(context) ? await FeastRestEndpoints.ReadBodyAsync(context) : JsonDocument.Parse("{}");
        var root = body.RootElement;
        var baseline = FeastRestEndpoints.OptionalString(root, "baseline");
        var windowText = FeastRestEndpoints.OptionalString(root, "window");
        var window = TimeSpan.FromHours(24);
        if (windowText is not null && (!DurationText.TryParse(windowText, out window, out _) || window <= TimeSpan.Zero))
            throw new GatewayRequestException($"'window' '{windowText}' is not a positive duration", "send e.g. \"window\": \"24h\"");
        var views = FeastRestEndpoints.OptionalStrings(root, "views") ?? [];
        await CheckViewsAsync(context, views);
        if (baseline is null)
            throw new GatewayRequestException("the request has no 'baseline'", "send \"baseline\": \"<training set .parquet or .csv, relative to the repository>\"");
        await WriteAsync(context, await Grain(context).RunDriftAsync(new DriftRequest { Baseline = baseline, Window = window, Views = views, FromRequest = true }));
    }

    // Unknown views are 404 here, before the grain runs anything. Parity and drift compare offline with online values,
    // so they need READ_OFFLINE and READ_ONLINE on every view they cover (every feature view when none is named).
    // Answers the features whose values a report must show masked to the caller (parity mismatches); drift shows no values.
    private static async Task<ColumnMasks?> CheckViewsAsync(HttpContext context, IReadOnlyList<string> views)
    {
        var snapshot = await context.RequestServices.GetRequiredService<OnlineFeatureQueries>().SnapshotAsync();
        for (var i = 0; i < views.Count; i++)
            if (snapshot.FindFeatureView(views[i]) is null)
                throw new GatewayNotFoundException($"views[{i}] '{views[i]}' is not a feature view of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.FeatureViews.Select(v => v.Name))}");
        var authorization = context.RequestServices.GetRequiredService<GatewayAuthorization>();
        foreach (var view in views.Count > 0 ? views : snapshot.FeatureViews.Select(v => v.Name))
        {
            authorization.Require(context, snapshot, PermissionAction.ReadOffline, PermissionRules.FeatureView, view);
            authorization.Require(context, snapshot, PermissionAction.ReadOnline, PermissionRules.FeatureView, view);
        }
        return context.RequestServices.GetRequiredService<PiiMaskingPolicy>().ForViews(context, snapshot, views.Count > 0 ? views : snapshot.FeatureViews.Select(v => v.Name));
    }

    private static bool HasBody(HttpContext context) => context.Request.ContentLength is not 0 && (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0);

    private static int? OptionalInt(JsonElement root, string name, int min, int max)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max ? n
            : throw new GatewayRequestException($"'{name}' is {value.GetRawText()}, not a whole number between {min} and {max}", $"send \"{name}\": {Math.Max(min, 1)}");
    }

    private static IFeatureHealthGrain Grain(HttpContext context)
        => context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IFeatureHealthGrain>(context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.Project);

    private static async Task WriteAsync(HttpContext context, ParityReport report, ColumnMasks? masks)
    {
        if (masks is not null) report = masks.Apply(report);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter, GatewayEndpoints.JsonOptions);
        HealthJson.Write(json, report);
    }

    private static async Task WriteAsync(HttpContext context, DriftReport report)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter, GatewayEndpoints.JsonOptions);
        HealthJson.Write(json, report);
    }
}
