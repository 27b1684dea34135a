using System.Security.Claims;
using Granary.Core.Security;
using Granary.Definitions;
using Granary.Offline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Security;

/// <summary>
/// The one permission check of every endpoint: decides with the project's permissions (<see cref="PermissionRules"/>,
/// deny by default), records each decision in <see cref="RequestAccess"/> for the audit trail, and refuses with
/// <see cref="GatewayForbiddenException"/> naming the action and the object. With authorization off it allows everything
/// (and still records, so reads of sensitive features are seen).
/// </summary>
public sealed class GatewayAuthorization(IOptions<GatewayOptions> options, Granary.Grains.Registry.RegistryCache registry)
{
    private readonly bool _enforced = options.Value.Security.Authorization;

    /// <summary>Requires <paramref name="action"/> on each object of <paramref name="type"/> named in <paramref name="names"/>, in the served project's current version.</summary>
    public async Task RequireEachAsync(HttpContext context, PermissionAction action, string type, IEnumerable<string> names)
    {
        var snapshot = await registry.GetAsync(options.Value.Project);
        foreach (var name in names) Require(context, snapshot, action, type, name);
    }

    /// <summary>Whether permissions are checked.</summary>
    public bool Enforced => _enforced;

    /// <summary>Whether the caller may do <paramref name="action"/> to the object; records the decision.</summary>
    public bool Can(HttpContext context, RegistrySnapshot snapshot, PermissionAction action, string type, string name)
    {
        var tags = PermissionRules.Find(snapshot, type, name)?.Tags ?? RegistryObject.EmptyTags;
        var allowed = !_enforced || PermissionRules.Allows(snapshot.Permissions, Roles(context.User), action, type, name, tags);
        RequestAccess.Of(context).Add(new AccessDecision(action, type, name, allowed, PermissionRules.IsSensitive(tags)));
        return allowed;
    }

    /// <summary>
    /// <paramref name="snapshot"/> holding only the entities, data sources, views and services the caller may DESCRIBE:
    /// what registry listings and the catalog show (Feast's registry server filters its lists the same way).
    /// </summary>
    /// <remarks>
    /// The permissions themselves stay whole unless <paramref name="listPermissions"/> is set: a snapshot filtered with
    /// it answers listings only and must never be used to authorize, since it lacks the permissions the caller may not see.
    /// </remarks>
    public RegistrySnapshot Describable(HttpContext context, RegistrySnapshot snapshot, bool listPermissions = false)
    {
        if (!_enforced) return snapshot;
        bool May(string type, string name) => Can(context, snapshot, PermissionAction.Describe, type, name);
        return snapshot with
        {
            Entities = snapshot.Entities.Where(e => May(PermissionRules.Entity, e.Name)).ToList(),
            DataSources = snapshot.DataSources.Where(d => May(PermissionRules.DataSource, d.Name)).ToList(),
            FeatureViews = snapshot.FeatureViews.Where(v => May(PermissionRules.FeatureView, v.Name)).ToList(),
            OnDemandFeatureViews = snapshot.OnDemandFeatureViews.Where(v => May(PermissionRules.OnDemandFeatureView, v.Name)).ToList(),
            FeatureServices = snapshot.FeatureServices.Where(s => May(PermissionRules.FeatureService, s.Name)).ToList(),
            Permissions = listPermissions ? snapshot.Permissions.Where(p => May(PermissionRules.Permission, p.Name)).ToList() : snapshot.Permissions,
        };
    }

    /// <summary>Refuses (403 / PERMISSION_DENIED) unless the caller may do <paramref name="action"/> to the object.</summary>
    public void Require(HttpContext context, RegistrySnapshot snapshot, PermissionAction action, string type, string name)
    {
        if (Can(context, snapshot, action, type, name)) return;
        var user = context.User.Identity?.Name ?? "(anonymous)";
        var roles = Roles(context.User);
        throw new GatewayForbiddenException(
            $"principal '{user}' may not {PermissionRules.Name(action)} {type} '{name}' of project '{snapshot.Project}'",
            $"a permission of the repository must grant {PermissionRules.Name(action)} on it to one of the principal's roles ({(roles.Count == 0 ? "it has none" : string.Join(", ", roles))})");
    }

    /// <summary>
    /// Requires <paramref name="action"/> on every view whose features <paramref name="plan"/> returns (feature views and on-demand views),
    /// and on the feature service when the read names one.
    /// </summary>
    public void RequireRead(HttpContext context, RegistrySnapshot snapshot, HistoricalRetrievalPlan plan, string? service, PermissionAction action)
    {
        if (!string.IsNullOrEmpty(service)) Require(context, snapshot, action, PermissionRules.FeatureService, service);
        // A view read only as an on-demand view's input is covered by the on-demand view's own check.
        foreach (var view in plan.Views.Where(v => v.Features.Any(f => f.IsOutput)).Select(v => v.View.Name).Distinct(StringComparer.Ordinal))
            Require(context, snapshot, action, PermissionRules.FeatureView, view);
        foreach (var view in plan.OnDemandViews.Select(v => v.View.Name).Distinct(StringComparer.Ordinal))
            Require(context, snapshot, action, PermissionRules.OnDemandFeatureView, view);
    }

    private static IReadOnlyCollection<string> Roles(ClaimsPrincipal user)
    {
        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in user.FindAll(ClaimTypes.Role)) roles.Add(claim.Value);
        return roles;
    }
}
