using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Granary.Definitions;

namespace Granary.Core.Security;

/// <summary>
/// Feast's permission semantics, deny by default: an action on an object is allowed when some permission covers the
/// object (its type listed or no types given, its name fully matching one pattern or no patterns given, every required
/// tag present with that value) and the action, and the principal holds one of the permission's roles. Feast's
/// enforcer grants when one matching permission does (its default decision); unlike Feast, an object that no
/// permission covers is refused even when the project has no permissions at all.
/// </summary>
public static class PermissionRules
{
    /// <summary>The object kinds a permission names, as Feast's <c>Permission.Type</c> spells them in lower case.</summary>
    public static readonly IReadOnlySet<string> ResourceTypes = new SortedSet<string>(StringComparer.Ordinal)
    {
        FeatureView, OnDemandFeatureView, FeatureService, Entity, DataSource, Permission, Project,
    };

    /// <summary>A feature view.</summary>
    public const string FeatureView = "feature_view";
    /// <summary>An on-demand feature view.</summary>
    public const string OnDemandFeatureView = "on_demand_feature_view";
    /// <summary>A feature service.</summary>
    public const string FeatureService = "feature_service";
    /// <summary>An entity.</summary>
    public const string Entity = "entity";
    /// <summary>A data source (push sources included).</summary>
    public const string DataSource = "data_source";
    /// <summary>A permission.</summary>
    public const string Permission = "permission";
    /// <summary>The project itself (registry history, rollback).</summary>
    public const string Project = "project";

    /// <summary>The action names, as Feast's <c>AuthzedAction</c> spells them, then Granary's own.</summary>
    public static readonly IReadOnlyList<string> ActionNames = Enum.GetValues<PermissionAction>().Select(Name).ToArray();

    /// <summary>
    /// What <c>ALL</c> grants: Feast's eight actions (<c>feast.permissions.action.ALL_ACTIONS</c>). Granary's privileged
    /// actions (<see cref="PermissionAction.Erase"/>, <see cref="PermissionAction.ReadUnmasked"/>) are granted only by
    /// name, so a permission written for Feast means no more under Granary than it did there.
    /// </summary>
    public static readonly IReadOnlyList<PermissionAction> AllActions =
    [
        PermissionAction.Create, PermissionAction.Describe, PermissionAction.Update, PermissionAction.Delete,
        PermissionAction.ReadOnline, PermissionAction.ReadOffline, PermissionAction.WriteOnline, PermissionAction.WriteOffline,
    ];

    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    /// <summary>Feast's name of <paramref name="action"/>: <c>READ_ONLINE</c> for <see cref="PermissionAction.ReadOnline"/>.</summary>
    public static string Name(PermissionAction action) => action switch
    {
        PermissionAction.Create => "CREATE",
        PermissionAction.Describe => "DESCRIBE",
        PermissionAction.Update => "UPDATE",
        PermissionAction.Delete => "DELETE",
        PermissionAction.ReadOnline => "READ_ONLINE",
        PermissionAction.ReadOffline => "READ_OFFLINE",
        PermissionAction.WriteOnline => "WRITE_ONLINE",
        PermissionAction.WriteOffline => "WRITE_OFFLINE",
        PermissionAction.Erase => "ERASE",
        PermissionAction.ReadUnmasked => "READ_UNMASKED",
        _ => action.ToString(),
    };

    /// <summary>Parses Feast's action name (any case); <c>ALL</c> is not one action, callers expand it.</summary>
    public static bool TryParseAction(string text, out PermissionAction action)
    {
        foreach (var a in Enum.GetValues<PermissionAction>())
            if (string.Equals(Name(a), text, StringComparison.OrdinalIgnoreCase)) { action = a; return true; }
        action = default;
        return false;
    }

    /// <summary>Whether <paramref name="pattern"/> is a valid regular expression; <paramref name="problem"/> says why not.</summary>
    public static bool TryCompile(string pattern, out string? problem)
    {
        try
        {
            Compiled(pattern);
            problem = null;
            return true;
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
            return false;
        }
    }

    // Feast matches with re.fullmatch (feast/permissions/matcher.py): the pattern must cover the whole name.
    private static Regex Compiled(string pattern)
        => Patterns.GetOrAdd(pattern, p => new Regex($"^(?:{p})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)));

    /// <summary>Whether <paramref name="permission"/> covers the object of <paramref name="type"/> named <paramref name="name"/> with <paramref name="tags"/>.</summary>
    public static bool Covers(Permission permission, string type, string name, IReadOnlyDictionary<string, string> tags)
    {
        if (permission.Types.Count > 0 && !permission.Types.Contains(type)) return false;
        if (permission.NamePatterns.Count > 0 && !permission.NamePatterns.Any(p => Compiled(p).IsMatch(name))) return false;
        foreach (var (key, value) in permission.RequiredTags)
            if (!tags.TryGetValue(key, out var actual) || actual != value) return false;
        return true;
    }

    /// <summary>Whether a principal holding <paramref name="roles"/> may do <paramref name="action"/> to the object; false when no permission covers it.</summary>
    public static bool Allows(IReadOnlyList<Permission> permissions, IReadOnlyCollection<string> roles, PermissionAction action, string type, string name,
        IReadOnlyDictionary<string, string> tags)
    {
        foreach (var permission in permissions)
        {
            if (!permission.Actions.Contains(action) || !Covers(permission, type, name, tags)) continue;
            foreach (var role in permission.Roles)
                if (roles.Contains(role)) return true;
        }
        return false;
    }

    /// <summary>Whether an object with <paramref name="tags"/> holds sensitive data (tagged <c>sensitive</c> or <c>pii</c>, any value but "false").</summary>
    public static bool IsSensitive(IReadOnlyDictionary<string, string> tags)
        => tags.Any(t => (string.Equals(t.Key, "sensitive", StringComparison.OrdinalIgnoreCase) || string.Equals(t.Key, "pii", StringComparison.OrdinalIgnoreCase))
                         && !string.Equals(t.Value, "false", StringComparison.OrdinalIgnoreCase));

    /// <summary>The object of <paramref name="type"/> named <paramref name="name"/> in <paramref name="snapshot"/> (its tags), or null.</summary>
    public static RegistryObject? Find(RegistrySnapshot snapshot, string type, string name) => type switch
    {
        FeatureView => snapshot.FindFeatureView(name),
        OnDemandFeatureView => snapshot.FindOnDemandFeatureView(name),
        FeatureService => snapshot.FindFeatureService(name),
        Entity => snapshot.FindEntity(name),
        DataSource => snapshot.FindDataSource(name),
        Permission => snapshot.Permissions.FirstOrDefault(p => p.Name == name),
        _ => null,
    };
}
