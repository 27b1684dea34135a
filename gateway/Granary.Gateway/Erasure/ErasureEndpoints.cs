using System.Globalization;
using System.Text.Json;
using Granary.Core.Security;
using Granary.Erasure;
using Granary.Gateway.Rest;
using Granary.Gateway.Security;
using Granary.Grains.Erasure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Gateway.Erasure;

/// <summary>
/// Erasure as REST (<c>POST /erase</c>) and gRPC (<c>Granary/Erase</c>) run it: the request planned against the registry
/// first (400 for an unknown view or join key, a value of the wrong type), ERASE required on every view erased (403),
/// then the erasure grain, with the caller named for the audit log.
/// </summary>
public static class ErasureEndpoints
{
    /// <summary>The REST route.</summary>
    public const string Route = "/erase";

    /// <summary>Maps <c>POST /erase</c>: <c>{"entity": {"driver_id": 1001}, "feature_views": ["driver_stats"]}</c> (views optional); answers the report.</summary>
    public static IEndpointRouteBuilder MapErasure(this IEndpointRouteBuilder app)
    {
        // Not bounded by the read timeout: an erasure rewrites files and waits for every silo.
        app.MapPost(Route, GatewayEndpoints.Guard(EraseRestAsync, limited: false));
        return app;
    }

    /// <summary>Checks and runs an erasure for the request in <paramref name="context"/>.</summary>
    public static async Task<ErasureReport> EraseAsync(HttpContext context, IReadOnlyList<KeyValuePair<string, string>> entity, IReadOnlyList<string> views, string route)
    {
        var services = context.RequestServices;
        var snapshot = await services.GetRequiredService<OnlineFeatureQueries>().SnapshotAsync();
        var plan = ErasurePlan.For(snapshot, entity, views);
        var authorization = services.GetRequiredService<GatewayAuthorization>();
        foreach (var target in plan.Targets)
            authorization.Require(context, snapshot, PermissionAction.Erase, PermissionRules.FeatureView, target.View.Name);
        var identity = context.User.Identity;
        var authenticated = identity is { IsAuthenticated: true, Name.Length: > 0 };
        var caller = new ErasureCaller(
            authenticated ? identity!.Name! : Granary.Audit.AuditEntry.Anonymous,
            authenticated ? identity!.AuthenticationType ?? "unknown" : "none",
            route, context.Connection.RemoteIpAddress?.ToString() ?? "");
        var request = new ErasureRequest([.. entity.Select(e => e.Key)], [.. entity.Select(e => e.Value)],
            [.. plan.Targets.Select(t => t.View.Name)], caller);
        return await services.GetRequiredService<IGrainFactory>().GetGrain<IErasureGrain>(snapshot.Project).EraseAsync(request);
    }

    private static async Task EraseRestAsync(HttpContext context)
    {
        using var body = await FeastRestEndpoints.ReadBodyAsync(context);
        var root = body.RootElement;
        var entityJson = FeastRestEndpoints.Required(root, "entity");
        if (entityJson.ValueKind != JsonValueKind.Object)
            throw new GatewayRequestException($"'entity' is {JsonEntityValues.Describe(entityJson)}, not an object of join keys", "send \"entity\": {\"driver_id\": 1001}");
        var entity = entityJson.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, KeyText(p))).ToList();
        var views = FeastRestEndpoints.OptionalStrings(root, "feature_views") ?? [];
        var report = await EraseAsync(context, entity, views, $"POST {Route}");
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body, GatewayEndpoints.JsonOptions);
        Write(writer, report);
        await writer.FlushAsync(context.RequestAborted);
    }

    // A join key value as text: a JSON number (integers only), string or boolean.
    private static string KeyText(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.String => p.Value.GetString()!,
        JsonValueKind.Number when p.Value.TryGetInt64(out var l) => l.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new GatewayRequestException($"entity.{GatewayErrors.Echo(p.Name)} is {JsonEntityValues.Describe(p.Value)}, which cannot be a join key value",
            "send the join key's value as an integer, a string or a boolean"),
    };

    /// <summary>The report as JSON: project, key hash, time, views, places (kind, name, location, rows, views), silos and cached entities.</summary>
    public static void Write(Utf8JsonWriter json, ErasureReport report)
    {
        json.WriteStartObject();
        json.WriteString("project", report.Project);
        json.WriteString("key_hash", report.KeyHash);
        json.WriteString("erased_at", report.ErasedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        json.WriteStartArray("feature_views");
        foreach (var v in report.Views) json.WriteStringValue(v);
        json.WriteEndArray();
        json.WriteStartArray("places");
        foreach (var p in report.Places)
        {
            json.WriteStartObject();
            json.WriteString("kind", p.Kind);
            json.WriteString("name", p.Name);
            json.WriteString("location", p.Location);
            json.WriteNumber("rows", p.Rows);
            json.WriteStartArray("feature_views");
            foreach (var v in p.Views) json.WriteStringValue(v);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("silos_told", report.SilosTold);
        json.WriteNumber("cached_entities", report.CachedEntities);
        json.WriteEndObject();
    }
}
