using Granary.Gateway.Security;
using Granary.Core.Security;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Granary.Grains.Online;
using Granary.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Granary.Gateway.Rest;

/// <summary>
/// Feast's Python feature server's REST API on the gateway's HTTP/1.1+2 endpoint: request and response shapes as Feast
/// documents them, errors as JSON <c>{"module","class","message"}</c> with the HTTP status of the error's kind.
/// Bodies are parsed by hand (not model binding) so every error names the field and the value.
/// </summary>
public static class FeastRestEndpoints
{
    /// <summary>Maps <c>POST /get-online-features</c>, <c>/materialize</c>, <c>/materialize-incremental</c> and <c>GET /health</c>.</summary>
    public static IEndpointRouteBuilder MapFeastRest(this IEndpointRouteBuilder app)
    {
        app.MapPost("/get-online-features", GatewayEndpoints.FeastGuard(GetOnlineFeaturesAsync));
        app.MapPost("/materialize", GatewayEndpoints.FeastGuard(context => MaterializeAsync(context, incremental: false), limited: false));
        app.MapPost("/materialize-incremental", GatewayEndpoints.FeastGuard(context => MaterializeAsync(context, incremental: true), limited: false));
        app.MapGet("/health", GatewayEndpoints.Guard(HealthAsync));
        return app;
    }

    private static async Task GetOnlineFeaturesAsync(HttpContext context)
    {
        var queries = context.RequestServices.GetRequiredService<OnlineFeatureQueries>();
        using var body = await ReadBodyAsync(context);
        var root = body.RootElement;
        var fullNames = OptionalBool(root, "full_feature_names");
        var features = OptionalStrings(root, "features");
        var service = OptionalString(root, "feature_service");
        var entities = Required(root, "entities");
        if (entities.ValueKind != JsonValueKind.Object)
            throw new GatewayRequestException($"'entities' is {JsonEntityValues.Describe(entities)}, not an object", "send \"entities\": {\"driver_id\": [1001, 1002]}");

        var snapshot = await queries.SnapshotAsync();
        var plan = queries.Plan(snapshot, features, service, fullNames);
        context.RequestServices.GetRequiredService<GatewayAuthorization>().RequireRead(context, snapshot, plan, service, PermissionAction.ReadOnline);
        var masks = context.RequestServices.GetRequiredService<PiiMaskingPolicy>().ForRead(context, snapshot, plan);
        var columns = new Dictionary<string, IReadOnlyList<object?>>(StringComparer.Ordinal);
        // Feast reads only the columns its views join on and ignores the rest; strict mode refuses them (400).
        var strict = FeastCompatibility.IsStrict(context);
        foreach (var column in entities.EnumerateObject())
        {
            if (!strict && !OnlineFeatureQueries.TryInputType(snapshot, plan, column.Name, out _)) continue;
            var type = OnlineFeatureQueries.InputType(snapshot, plan, column.Name, "entities");
            columns[column.Name] = JsonEntityValues.ReadColumn(column.Value, type, $"entities.{column.Name}");
        }
        // Feast's newer servers also take request data in "request_context"; same typing rules.
        if (root.TryGetProperty("request_context", out var requestContext) && requestContext.ValueKind == JsonValueKind.Object)
        {
            foreach (var column in requestContext.EnumerateObject())
            {
                if (!strict && !OnlineFeatureQueries.TryInputType(snapshot, plan, column.Name, out _)) continue;
                var type = OnlineFeatureQueries.InputType(snapshot, plan, column.Name, "request_context");
                columns[column.Name] = JsonEntityValues.ReadColumn(column.Value, type, $"request_context.{column.Name}");
            }
        }
        var response = await queries.ReadAsync(snapshot, plan, columns, context.RequestAborted);
        if (masks is not null) response = masks.Apply(response);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter, GatewayEndpoints.JsonOptions);
        OnlineFeaturesJson.Write(json, response);
    }

    private static async Task MaterializeAsync(HttpContext context, bool incremental)
    {
        var runs = context.RequestServices.GetRequiredService<MaterializationRuns>();
        using var body = await ReadBodyAsync(context);
        var root = body.RootElement;
        var views = OptionalStrings(root, "feature_views") ?? [];
        DateTimeOffset? start = null;
        DateTimeOffset end;
        if (incremental)
        {
            end = RequiredTime(root, "end_ts");
        }
        else if (OptionalBool(root, "disable_event_timestamp"))
        {
            // Feast: no window given, materialize everything up to now.
            (start, end) = (DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow);
        }
        else
        {
            (start, end) = (RequiredTime(root, "start_ts"), RequiredTime(root, "end_ts"));
        }
        var chosen = await runs.ChooseAsync(views, "feature_views");
        await context.RequestServices.GetRequiredService<GatewayAuthorization>().RequireEachAsync(context, PermissionAction.WriteOnline, PermissionRules.FeatureView, chosen);
        await runs.StartAsync(chosen, start, end);
        if (string.Equals(context.Request.Query["async"], "true", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.ContentType = "application/json";
            await using var accepted = new Utf8JsonWriter(context.Response.BodyWriter, GatewayEndpoints.JsonOptions);
            accepted.WriteStartObject();
            accepted.WriteString("status", "accepted");
            accepted.WriteStartArray("feature_views");
            foreach (var view in chosen) accepted.WriteStringValue(view);
            accepted.WriteEndArray();
            accepted.WriteEndObject();
            return;
        }
        var finished = await runs.WaitAsync(chosen, null, context.RequestAborted);
        MaterializationRuns.ThrowIfFailed(finished);
        // Feast answers a finished materialization with 200 and the JSON null.
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("null");
    }

    private static async Task HealthAsync(HttpContext context)
    {
        var report = await context.RequestServices.GetRequiredService<HealthCheckService>().CheckHealthAsync(context.RequestAborted);
        context.Response.StatusCode = report.Status == HealthStatus.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter, GatewayEndpoints.JsonOptions);
        json.WriteStartObject();
        json.WriteString("status", report.Status == HealthStatus.Healthy ? "healthy" : "unhealthy");
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString().ToLowerInvariant());
            json.WriteString("detail", entry.Description);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The request body as a JSON object; malformed JSON is 400, a body over the limit 413 (Kestrel's limit, checked while reading).</summary>
    internal static async Task<JsonDocument> ReadBodyAsync(HttpContext context)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, context.RequestAborted);
        }
        catch (JsonException e) when (e.LineNumber == 0 && e.BytePositionInLine == 0)
        {
            throw new GatewayRequestException("the request body is empty or not JSON", "send a JSON object as Feast's feature server documents it");
        }
        catch (IOException e) when (e is not BadHttpRequestException && !context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel's framing errors while the body is read (a chunk size of ffffffffffffffff overflows): the client's request
            // is malformed. BadHttpRequestException (an IOException too: 413 over the limit) keeps its own status.
            throw new GatewayRequestException($"the request body could not be read: {e.Message}", "send the body with a correct Content-Length or valid chunked encoding");
        }
        try
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new GatewayRequestException($"the request body is {JsonEntityValues.Describe(document.RootElement)}, not a JSON object", "send a JSON object as Feast's feature server documents it");
            CheckText(document.RootElement, "");
        }
        catch
        {
            document.Dispose();
            throw;
        }
        return document;
    }

    // System.Text.Json checks a string's UTF-8 and its \u escapes only when the string is read, and then throws
    // InvalidOperationException wherever a handler first reads it; every string and name is checked here instead, once.
    // Plain ASCII without escapes (nearly every string) needs no decoding.
    private static void CheckText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = NeedsDecoding(JsonMarshal.GetRawUtf8PropertyName(property)) ? Decoded(() => property.Name, path + " (a member name)") : property.Name;
                    CheckText(property.Value, path.Length == 0 ? name : $"{path}.{name}");
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) CheckText(item, $"{path}[{i++}]");
                break;
            case JsonValueKind.String when NeedsDecoding(JsonMarshal.GetRawUtf8Value(element)):
                Decoded(element.GetString, path);
                break;
        }
    }

    private static bool NeedsDecoding(ReadOnlySpan<byte> raw) => raw.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0 || raw.IndexOf((byte)'\\') >= 0;

    private static string Decoded(Func<string?> read, string path)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            throw new GatewayRequestException($"{GatewayErrors.Echo(path)} is a JSON string that is not valid UTF-8 text (invalid bytes, or a \\u escape of a lone surrogate)",
                "send UTF-8 text; escape characters outside the Basic Multilingual Plane as a surrogate pair (\\ud83d\\ude80)");
        }
    }

    internal static JsonElement Required(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value
            : throw new GatewayRequestException($"the request has no '{name}'", $"add \"{name}\" to the request body");

    internal static string RequiredString(JsonElement root, string name)
    {
        var value = Required(root, name);
        return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text
            : throw new GatewayRequestException($"'{name}' is {JsonEntityValues.Describe(value)}, not a non-empty string", $"send \"{name}\": \"...\"");
    }

    internal static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString()
            : throw new GatewayRequestException($"'{name}' is {JsonEntityValues.Describe(value)}, not a string", $"send \"{name}\": \"...\"");
    }

    internal static bool OptionalBool(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return false;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new GatewayRequestException($"'{name}' is {JsonEntityValues.Describe(value)}, not true or false", $"send \"{name}\": true"),
        };
    }

    internal static List<string>? OptionalStrings(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array)
            throw new GatewayRequestException($"'{name}' is {JsonEntityValues.Describe(value)}, not a list of strings", $"send \"{name}\": [\"...\"]");
        var list = new List<string>(value.GetArrayLength());
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw new GatewayRequestException($"{name}[{i}] is {JsonEntityValues.Describe(item)}, not a string", $"send \"{name}\": [\"...\"]");
            list.Add(item.GetString()!);
            i++;
        }
        return list;
    }

    internal static DateTimeOffset RequiredTime(JsonElement root, string name)
    {
        var text = RequiredString(root, name);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
            : throw new GatewayRequestException($"'{name}' '{text}' is not an ISO 8601 timestamp", $"send e.g. \"{name}\": \"2024-01-01T00:00:00Z\" (no offset = UTC)");
    }
}
