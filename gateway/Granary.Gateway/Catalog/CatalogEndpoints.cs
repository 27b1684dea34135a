using Granary.Definitions;
using Granary.Core.Security;
using Granary.Gateway.Security;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Gateway.Catalog;

/// <summary>
/// The feature catalog on the REST port: the JSON API under <c>/api/catalog</c>, the web UI under <c>/ui</c> (embedded
/// assets, no CDN), and the Orleans dashboard under <c>/dashboard</c> when the host added it (<see cref="GatewayDashboard"/>).
/// </summary>
public static class CatalogEndpoints
{
    /// <summary>Where the UI is served.</summary>
    public const string UiPath = "/ui/";

    /// <summary>Maps the catalog API, the UI and (when added) the Orleans dashboard.</summary>
    public static IEndpointRouteBuilder MapGranaryCatalog(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/catalog/search", GatewayEndpoints.Guard(async context =>
        {
            var query = context.Request.Query;
            var result = await Catalog(context).SearchAsync(Single(query, "q"), Single(query, "tag"), Single(query, "owner"), Single(query, "kind"), Visible(context));
            await WriteAsync(context, result);
        }));
        app.MapGet("/api/catalog/feature-views", GatewayEndpoints.Guard(async context => await WriteAsync(context, await Catalog(context).ListViewsAsync(Visible(context)))));
        app.MapGet("/api/catalog/feature-views/{name}", GatewayEndpoints.Guard(async context =>
        {
            var name = (string)context.Request.RouteValues["name"]!;
            await context.RequestServices.GetRequiredService<GatewayAuthorization>().RequireEachAsync(context, PermissionAction.Describe, PermissionRules.FeatureView, [name]);
            await WriteAsync(context, await Catalog(context).ViewAsync(name, Visible(context)));
        }));
        // Anything else under the API is a JSON 404, not the framework's empty one.
        app.Map("/api/catalog/{**rest}", GatewayEndpoints.Guard(context =>
            throw new GatewayNotFoundException($"'{context.Request.Path}' is not a catalog endpoint",
                "use /api/catalog/search?q=&tag=&owner=&kind=, /api/catalog/feature-views or /api/catalog/feature-views/{name}")));

        // Routing ignores a trailing slash, so one endpoint takes both "/ui" (redirected, so relative asset URLs work) and "/ui/".
        app.MapGet("/ui", context =>
        {
            if (context.Request.Path.Value!.EndsWith('/')) return UiAssets.ServeAsync(context, null);
            context.Response.Redirect(UiPath);
            return Task.CompletedTask;
        });
        app.MapGet("/ui/{**asset}", context => UiAssets.ServeAsync(context, (string?)context.Request.RouteValues["asset"]));
        GatewayDashboard.MapIfAdded(app);
        return app;
    }

    // The catalog shows only what the caller may DESCRIBE.
    private static Func<RegistrySnapshot, RegistrySnapshot> Visible(HttpContext context)
    {
        var authorization = context.RequestServices.GetRequiredService<GatewayAuthorization>();
        return snapshot => authorization.Describable(context, snapshot);
    }

    private static CatalogQueries Catalog(HttpContext context) => context.RequestServices.GetRequiredService<CatalogQueries>();

    /// <summary>One query parameter, or null; repeating it is a 400 (which one would win is not obvious).</summary>
    private static string? Single(IQueryCollection query, string name)
    {
        var values = query[name];
        if (values.Count > 1) throw new GatewayRequestException($"query parameter '{name}' is given {values.Count} times", $"give '{name}' once");
        var value = values.Count == 1 ? values[0]?.Trim() : null;
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static async Task WriteAsync(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body, GatewayEndpoints.JsonOptions);
        body.WriteTo(json);
    }
}
