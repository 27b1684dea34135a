using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Granary.Core.Security;
using Granary.Definitions;
using Granary.Gateway.Security;
using Granary.Grains.Quality;
using Granary.Quality;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Gateway.Quality;

/// <summary>
/// The quarantine over REST: <c>GET /api/quarantine</c> (counts per view and rule, and the oldest entries),
/// <c>GET /api/quarantine/{id}</c>, <c>POST /api/quarantine/{id}/release</c> and <c>POST /api/quarantine/{id}/drop</c>.
/// Reading entries needs READ_OFFLINE on their view (they hold feature values); releasing needs WRITE_ONLINE and
/// WRITE_OFFLINE, dropping WRITE_ONLINE, so both are audited as writes.
/// </summary>
public static class QuarantineEndpoints
{
    /// <summary>How many entries a listing returns at most, unless <c>limit</c> says fewer.</summary>
    public const int MaxListed = 1000;

    /// <summary>Maps the quarantine routes.</summary>
    public static IEndpointRouteBuilder MapQuarantine(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/quarantine", GatewayEndpoints.Guard(ListAsync));
        app.MapGet("/api/quarantine/{id}", GatewayEndpoints.Guard(ShowAsync));
        app.MapPost("/api/quarantine/{id}/release", GatewayEndpoints.Guard(ReleaseAsync));
        app.MapPost("/api/quarantine/{id}/drop", GatewayEndpoints.Guard(DropAsync));
        return app;
    }

    private static async Task ListAsync(HttpContext context)
    {
        var (snapshot, grain) = await OpenAsync(context);
        var view = context.Request.Query["feature_view"].FirstOrDefault() is { Length: > 0 } v ? v : null;
        var limit = MaxListed;
        if (context.Request.Query["limit"].FirstOrDefault() is { Length: > 0 } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxListed))
            throw new GatewayRequestException($"limit '{text}' is not a whole number from 1 to {MaxListed}", "send limit=100, or leave it out");
        if (view is not null && snapshot.FeatureViews.All(f => f.Name != view))
            throw new GatewayNotFoundException($"feature view '{view}' is not in project '{snapshot.Project}'", "name a feature view of the project", FeastErrors.FeatureViewNotFound);
        var counts = (await grain.CountAsync()).Where(c => view is null || c.FeatureView == view).ToList();
        foreach (var name in counts.Select(c => c.FeatureView).Distinct()) Authorize(context, snapshot, PermissionAction.ReadOffline, name);
        var rows = await grain.ListAsync(view, limit);
        var body = new JsonObject
        {
            ["project"] = snapshot.Project,
            ["counts"] = new JsonArray(counts.Select(c => (JsonNode)new JsonObject { ["feature_view"] = c.FeatureView, ["rule"] = c.Rule, ["count"] = c.Count }).ToArray()),
            ["rows"] = new JsonArray(rows.Select(Json).ToArray()),
        };
        await WriteAsync(context, body);
    }

    private static async Task ShowAsync(HttpContext context)
    {
        var (snapshot, grain) = await OpenAsync(context);
        var entry = await EntryAsync(context, snapshot, grain);
        Authorize(context, snapshot, PermissionAction.ReadOffline, entry.FeatureView);
        await WriteAsync(context, (JsonObject)Json(entry));
    }

    private static async Task ReleaseAsync(HttpContext context)
    {
        var (snapshot, grain) = await OpenAsync(context);
        var entry = await EntryAsync(context, snapshot, grain);
        Authorize(context, snapshot, PermissionAction.WriteOnline, entry.FeatureView);
        Authorize(context, snapshot, PermissionAction.WriteOffline, entry.FeatureView);
        var released = await grain.ReleaseAsync(entry.Id);
        await WriteAsync(context, new JsonObject
        {
            ["id"] = released.Id, ["feature_view"] = released.FeatureView, ["rule"] = released.Rule, ["online_rows_applied"] = released.OnlineRowsApplied,
            ["offline_rows_appended"] = released.OfflineRowsAppended, ["quarantined_again"] = released.QuarantinedAgain,
        });
    }

    private static async Task DropAsync(HttpContext context)
    {
        var (snapshot, grain) = await OpenAsync(context);
        var entry = await EntryAsync(context, snapshot, grain);
        Authorize(context, snapshot, PermissionAction.WriteOnline, entry.FeatureView);
        await WriteAsync(context, new JsonObject { ["id"] = entry.Id, ["dropped"] = await grain.DropAsync(entry.Id) });
    }

    private static async Task<(RegistrySnapshot Snapshot, IQuarantineGrain Grain)> OpenAsync(HttpContext context)
    {
        var snapshot = await context.RequestServices.GetRequiredService<OnlineFeatureQueries>().SnapshotAsync();
        return (snapshot, context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IQuarantineGrain>(snapshot.Project));
    }

    private static async Task<QuarantinedRow> EntryAsync(HttpContext context, RegistrySnapshot snapshot, IQuarantineGrain grain)
    {
        var text = context.Request.RouteValues["id"] as string;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            throw new GatewayRequestException($"quarantine id '{text}' is not a whole number", "take the id from GET /api/quarantine (granary quarantine list)");
        return await grain.GetAsync(id)
            ?? throw new GatewayNotFoundException($"project '{snapshot.Project}' has no quarantine entry {id}", "list the entries with GET /api/quarantine (granary quarantine list)");
    }

    private static void Authorize(HttpContext context, RegistrySnapshot snapshot, PermissionAction action, string view)
        => context.RequestServices.GetRequiredService<GatewayAuthorization>().Require(context, snapshot, action, PermissionRules.FeatureView, view);

    /// <summary>An entry as the API writes it; the row is the JSON object it was stored as.</summary>
    public static JsonNode Json(QuarantinedRow row) => new JsonObject
    {
        ["id"] = row.Id, ["feature_view"] = row.FeatureView, ["rule"] = row.Rule, ["source"] = row.Source,
        ["quarantined_at"] = row.QuarantinedAt, ["row"] = JsonNode.Parse(row.Row),
    };

    private static async Task WriteAsync(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body, GatewayEndpoints.JsonOptions);
        body.WriteTo(json);
    }
}
