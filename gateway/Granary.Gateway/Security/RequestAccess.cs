using Granary.Core.Security;
using Microsoft.AspNetCore.Http;

namespace Granary.Gateway.Security;

/// <summary>
/// One authorization decision taken while serving a request: which action on which object, whether it was allowed,
/// and whether the object holds sensitive data (tagged <c>sensitive</c> or <c>pii</c>), so the audit log can record it.
/// </summary>
/// <param name="Action">The action asked for.</param>
/// <param name="ObjectType">The registry object's kind as permissions name it: <c>feature_view</c>, <c>feature_service</c>, <c>push_source</c>, ...</param>
/// <param name="ObjectName">The object's name, never a value or a key.</param>
/// <param name="Allowed">Whether a permission granted it.</param>
/// <param name="Sensitive">Whether the object is tagged <c>sensitive</c> or <c>pii</c> (its reads are audited).</param>
public sealed record AccessDecision(PermissionAction Action, string ObjectType, string ObjectName, bool Allowed, bool Sensitive);

/// <summary>
/// The authorization decisions of one request, kept as an HTTP feature (REST and gRPC alike) so that whoever authorizes
/// records what it decided and the audit trail reads it when the request ends. The principal is
/// <see cref="HttpContext.User"/>: its identity name is the principal's name, its role claims its roles.
/// </summary>
public sealed class RequestAccess
{
    private readonly List<AccessDecision> _decisions = [];

    /// <summary>The decisions so far, in the order they were taken.</summary>
    public IReadOnlyList<AccessDecision> Decisions
    {
        get { lock (_decisions) return _decisions.ToArray(); }
    }

    /// <summary>Records one decision.</summary>
    public void Add(AccessDecision decision)
    {
        lock (_decisions) _decisions.Add(decision);
    }

    /// <summary>The request's decisions, created on first use.</summary>
    public static RequestAccess Of(HttpContext context)
    {
        var access = context.Features.Get<RequestAccess>();
        if (access is null)
        {
            access = new RequestAccess();
            context.Features.Set(access);
        }
        return access;
    }
}
