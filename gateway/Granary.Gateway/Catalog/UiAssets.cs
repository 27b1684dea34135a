using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Granary.Gateway.Catalog;

/// <summary>The UI's files, embedded in this assembly (Catalog/Ui/*) so the gateway serves them offline, with no CDN.</summary>
internal static class UiAssets
{
    private static readonly Assembly Assembly = typeof(UiAssets).Assembly;

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>Serves <paramref name="asset"/> (index.html when empty); 404 for anything not embedded.</summary>
    public static async Task ServeAsync(HttpContext context, string? asset)
    {
        var name = string.IsNullOrEmpty(asset) ? "index.html" : asset;
        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(name));
        // Only plain file names: the UI has no folders, and this keeps any path trick out.
        await using var stream = type is null || name.Contains('/') || name.Contains('\\') ? null : Assembly.GetManifestResourceStream("ui/" + name);
        if (stream is null)
        {
            await new GatewayError(StatusCodes.Status404NotFound, global::Grpc.Core.StatusCode.NotFound, "GatewayNotFoundException",
                $"'{context.Request.Path}' is not a file of Granary's UI", $"open {CatalogEndpoints.UiPath}").WriteAsync(context.Response);
            return;
        }
        context.Response.ContentType = type;
        context.Response.Headers.CacheControl = "no-cache";
        // Everything the page loads comes from this gateway: its own scripts, styles and JSON.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
