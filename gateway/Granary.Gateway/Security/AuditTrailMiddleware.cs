using System.Globalization;
using Granary.Audit;
using Granary.Core.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Granary.Gateway.Security;

/// <summary>
/// Records audited requests once they are answered, and holds the answer's completion until the records are stored:
/// every write (push, write-to-online-store, materialize, over REST and gRPC), every refused request (401, 403, 413,
/// 429 and their gRPC statuses, and any authorization decision that denied), and every allowed read of an object an
/// authorization decision marked sensitive. What is recorded are names (principal, action, object, route), the caller's
/// address and the outcome; never a body, a header value, a feature or entity value.
/// </summary>
public sealed class AuditTrailMiddleware(AuditTrail trail) : IMiddleware
{
    // The routes that write, REST and gRPC, with the action they take when no authorization decision names one.
    private static readonly Dictionary<string, PermissionAction> Writes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["/push"] = PermissionAction.WriteOnline,
        ["/write-to-online-store"] = PermissionAction.WriteOnline,
        ["/materialize"] = PermissionAction.WriteOnline,
        ["/materialize-incremental"] = PermissionAction.WriteOnline,
        ["/granary.gateway.v1.Granary/Push"] = PermissionAction.WriteOnline,
        ["/granary.gateway.v1.Granary/Materialize"] = PermissionAction.WriteOnline,
        ["/granary.gateway.v1.Granary/MaterializeIncremental"] = PermissionAction.WriteOnline,
        ["/erase"] = PermissionAction.Erase,
        ["/granary.gateway.v1.Granary/Erase"] = PermissionAction.Erase,
    };

    /// <inheritdoc/>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            var entries = Entries(context, failed);
            if (entries.Count > 0) await trail.RecordAsync(entries);
        }
    }

    /// <summary>The records one answered request makes: none for an unrefused read of nothing sensitive.</summary>
    public static IReadOnlyList<AuditEntry> Entries(HttpContext context, bool failed)
    {
        var path = context.Request.Path.Value ?? "";
        var write = (Writes.TryGetValue(path, out var writeAction) || IsRegistryWrite(path, out writeAction)) && HttpMethods.IsPost(context.Request.Method);
        var (code, grpc, outcome) = Outcome(context, failed);
        var refused = outcome is "denied" or "refused";
        var access = context.Features.Get<RequestAccess>();
        // The read path's common case: no write, no refusal, no decision: nothing to record, nothing allocated.
        if (!write && !refused && access is null) return [];
        var status = grpc ? "grpc:" + GrpcNames[code] : code.ToString(CultureInfo.InvariantCulture);
        List<AuditEntry>? result = null;
        foreach (var decision in access?.Decisions ?? [])
        {
            if (!write && !refused && decision.Allowed && !decision.Sensitive && !IsWriteAction(decision.Action)) continue;
            (result ??= []).Add(Entry(context, PermissionRules.Name(decision.Action), decision.ObjectType, decision.ObjectName, decision.Allowed ? outcome : "denied", status));
        }
        if (result is null && (write || refused))
            result = [Entry(context, write ? PermissionRules.Name(writeAction) : "REQUEST", "", "", outcome, status)];
        return result ?? [];
    }

    // Feast's registry server write methods (Apply*, Delete*): answered UNIMPLEMENTED, but a write attempt all the same.
    private static bool IsRegistryWrite(string path, out PermissionAction action)
    {
        const string registry = "/feast.registry.RegistryServer/";
        action = path.StartsWith(registry + "Delete", StringComparison.Ordinal) ? PermissionAction.Delete : PermissionAction.Update;
        return path.StartsWith(registry, StringComparison.Ordinal)
               && (path.AsSpan(registry.Length).StartsWith("Apply", StringComparison.Ordinal) || path.AsSpan(registry.Length).StartsWith("Delete", StringComparison.Ordinal));
    }

    private static bool IsWriteAction(PermissionAction action)
        => action is PermissionAction.Create or PermissionAction.Update or PermissionAction.Delete or PermissionAction.WriteOnline or PermissionAction.WriteOffline;

    private static AuditEntry Entry(HttpContext context, string action, string objectType, string objectName, string outcome, string status)
    {
        var identity = context.User.Identity;
        var authenticated = identity is { IsAuthenticated: true, Name.Length: > 0 };
        return new AuditEntry
        {
            Time = DateTimeOffset.UtcNow,
            Principal = authenticated ? identity!.Name! : AuditEntry.Anonymous,
            AuthMethod = authenticated ? identity!.AuthenticationType ?? "unknown" : "none",
            Action = action,
            ObjectType = objectType,
            ObjectName = objectName,
            Route = $"{context.Request.Method} {Bounded(context.Request.Path.Value ?? "")}",
            Address = context.Connection.RemoteIpAddress?.ToString() ?? "",
            Result = outcome,
            Status = status,
        };
    }

    // A path is the client's text; keep records bounded.
    private static string Bounded(string path) => path.Length <= 256 ? path : path[..256];

    private static readonly string[] GrpcNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    /// <summary>The answer's status (HTTP, or gRPC when <c>Grpc</c>), and the outcome: allowed, denied (401/403), refused (413/429) or failed.</summary>
    private static (int Code, bool Grpc, string Outcome) Outcome(HttpContext context, bool failed)
    {
        if (failed) return (StatusCodes.Status500InternalServerError, false, "failed");
        var http = context.Response.StatusCode;
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true && http == StatusCodes.Status200OK)
        {
            var value = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString();
            if (string.IsNullOrEmpty(value)) value = context.Response.Headers["grpc-status"].ToString();
            var code = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c < GrpcNames.Length ? c : 2;
            var outcome = code switch
            {
                0 => "allowed",
                7 or 16 => "denied",
                8 => "refused",
                _ => "failed",
            };
            return (code, true, outcome);
        }
        return (http, false, http switch
        {
            < 400 => "allowed",
            401 or 403 => "denied",
            413 or 429 => "refused",
            _ => "failed",
        });
    }
}

/// <summary>Puts the audit trail outermost but for the request metrics, so it sees every refusal (authentication, limits) and every answer.</summary>
internal sealed class AuditTrailStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<AuditTrailMiddleware>();
        next(app);
    };
}
