using System.Globalization;
using System.Text.Json.Nodes;

namespace Granary.Definitions;

/// <summary>The kinds of object a registry holds.</summary>
public enum ObjectKind
{
    /// <summary>An entity.</summary>
    Entity,
    /// <summary>A data source.</summary>
    DataSource,
    /// <summary>A feature view.</summary>
    FeatureView,
    /// <summary>An on-demand feature view.</summary>
    OnDemandFeatureView,
    /// <summary>A feature service.</summary>
    FeatureService,
    /// <summary>A transform source file.</summary>
    TransformSource,
    /// <summary>A permission.</summary>
    Permission,
}

/// <summary>What happened to an object between two versions.</summary>
public enum ChangeKind
{
    /// <summary>New in the later version.</summary>
    Added,
    /// <summary>In both, with different fields.</summary>
    Changed,
    /// <summary>Gone from the later version.</summary>
    Removed,
}

/// <summary>One field that differs; null on a side where the field is absent.</summary>
public sealed record FieldChange(string Field, string? Before, string? After);

/// <summary>One object added, changed (with its changed fields) or removed.</summary>
public sealed record ObjectChange(ObjectKind Kind, string Name, ChangeKind Change, IReadOnlyList<FieldChange> Fields);

/// <summary>A change that breaks a feature service: a feature it uses was removed or changed type.</summary>
public sealed record BreakingChange(string FeatureService, string View, string Feature, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"feature service '{FeatureService}' uses {View}:{Feature}, which {Reason}";
}

/// <summary>The difference between two registry versions: what <c>plan</c> shows and <c>apply</c> checks.</summary>
public sealed record RegistryDiff(IReadOnlyList<ObjectChange> Changes, IReadOnlyList<BreakingChange> BreakingChanges)
{
    /// <summary>True when the two versions define the same objects.</summary>
    public bool IsEmpty => Changes.Count == 0;

    /// <summary>Compares the definitions of <paramref name="before"/> and <paramref name="after"/> (versions, times and materialization intervals are ignored).</summary>
    public static RegistryDiff Compute(RegistrySnapshot before, RegistrySnapshot after)
    {
        var changes = new List<ObjectChange>();
        Compare(ObjectKind.Entity, before.Entities, after.Entities, changes);
        Compare(ObjectKind.DataSource, before.DataSources, after.DataSources, changes);
        Compare(ObjectKind.FeatureView, before.FeatureViews, after.FeatureViews, changes);
        Compare(ObjectKind.OnDemandFeatureView, before.OnDemandFeatureViews, after.OnDemandFeatureViews, changes);
        Compare(ObjectKind.FeatureService, before.FeatureServices, after.FeatureServices, changes);
        Compare(ObjectKind.Permission, before.Permissions, after.Permissions, changes);
        foreach (var file in before.TransformSources.Keys.Union(after.TransformSources.Keys).Order(StringComparer.Ordinal))
        {
            var b = before.TransformSources.GetValueOrDefault(file);
            var a = after.TransformSources.GetValueOrDefault(file);
            if (b == a) continue;
            var change = b is null ? ChangeKind.Added : a is null ? ChangeKind.Removed : ChangeKind.Changed;
            changes.Add(new ObjectChange(ObjectKind.TransformSource, file, change,
                change == ChangeKind.Changed ? [new FieldChange("code", LineCount(b!), LineCount(a!))] : []));
        }
        return new RegistryDiff(changes, FindBreakingChanges(before, after));
    }

    private static string LineCount(string code) => $"{code.Split('\n').Length} lines";

    private static void Compare<T>(ObjectKind kind, IReadOnlyList<T> before, IReadOnlyList<T> after, List<ObjectChange> changes) where T : RegistryObject
    {
        var beforeByName = before.GroupBy(o => o.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var afterByName = after.GroupBy(o => o.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var o in after)
        {
            if (!beforeByName.TryGetValue(o.Name, out var old)) changes.Add(new ObjectChange(kind, o.Name, ChangeKind.Added, []));
            else
            {
                var fields = DiffFields(Flatten(old), Flatten(o));
                if (fields.Count > 0) changes.Add(new ObjectChange(kind, o.Name, ChangeKind.Changed, fields));
            }
        }
        foreach (var o in before)
            if (!afterByName.ContainsKey(o.Name)) changes.Add(new ObjectChange(kind, o.Name, ChangeKind.Removed, []));
    }

    private static List<FieldChange> DiffFields(SortedDictionary<string, string> before, SortedDictionary<string, string> after)
    {
        var result = new List<FieldChange>();
        foreach (var key in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var b = before.GetValueOrDefault(key);
            var a = after.GetValueOrDefault(key);
            if (b != a) result.Add(new FieldChange(key, b, a));
        }
        return result;
    }

    /// <summary>
    /// Flattens an object into field paths such as <c>ttl</c>, <c>tags.team</c>, <c>features.conv_rate.type</c>:
    /// lists of named things are keyed by name so reordering is not a change, and one field's change shows alone.
    /// </summary>
    private static SortedDictionary<string, string> Flatten<T>(T value) where T : RegistryObject
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var node = JsonNode.Parse(RegistryJson.SerializeObject(value))!;
        Walk(node, "", result);
        result.Remove("name");
        return result;
    }

    private static void Walk(JsonNode? node, string path, SortedDictionary<string, string> into)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject obj:
                foreach (var (key, child) in obj)
                    Walk(child, path.Length == 0 ? Snake(key) : path + "." + (IsTagsPath(path) ? key : Snake(key)), into);
                return;
            case JsonArray array when array.All(e => e is JsonObject o && KeyOf(o) is not null):
                foreach (var e in array)
                    Walk(e, path + "." + KeyOf((JsonObject)e!), into);
                if (array.Count == 0) into[path] = "[]";
                return;
            case JsonArray array:
                into[path] = "[" + string.Join(", ", array.Select(e => e?.ToString())) + "]";
                return;
            default:
                var text = node.ToString();
                into[path] = path.EndsWith("ttl", StringComparison.Ordinal) || path.EndsWith("freshness_sla", StringComparison.Ordinal)
                             || path.EndsWith("materialize_every", StringComparison.Ordinal) || path.EndsWith("materialize_lookback", StringComparison.Ordinal)
                    ? FormatDuration(text)
                    : text;
                return;
        }
    }

    private static bool IsTagsPath(string path) => path.EndsWith("tags", StringComparison.Ordinal) || path.EndsWith("field_mapping", StringComparison.Ordinal) || path.EndsWith("join_key_map", StringComparison.Ordinal);

    private static string? KeyOf(JsonObject o)
        => (o["name"] ?? o["alias"] ?? o["view"])?.GetValue<string>();

    private static string FormatDuration(string text)
        => TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var t) ? DurationText.Format(t) : text;

    private static string Snake(string camel)
    {
        var sb = new System.Text.StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsAsciiLetterUpper(c)) { sb.Append('_'); sb.Append(char.ToLowerInvariant(c)); }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Features a feature service uses in <paramref name="before"/> and still projects in <paramref name="after"/>,
    /// whose view lost them or changed their type. A service that drops a feature itself is a deliberate change, not a break.
    /// </summary>
    private static List<BreakingChange> FindBreakingChanges(RegistrySnapshot before, RegistrySnapshot after)
    {
        var result = new List<BreakingChange>();
        foreach (var oldService in before.FeatureServices)
        {
            var newService = after.FindFeatureService(oldService.Name);
            if (newService is null) continue;
            foreach (var oldProjection in oldService.Projections)
            {
                var newProjection = newService.Projections.FirstOrDefault(p => p.View == oldProjection.View && p.NameToUse == oldProjection.NameToUse);
                if (newProjection is null) continue;
                var oldFeatures = FeaturesOf(before, oldProjection.View);
                if (oldFeatures is null) continue;
                var newFeatures = FeaturesOf(after, oldProjection.View);
                var used = oldProjection.Features.Count == 0 ? oldFeatures.Select(f => f.Name) : oldProjection.Features;
                foreach (var name in used)
                {
                    // Still selected by the new service definition (explicitly, or implicitly as "all features")?
                    if (newProjection.Features.Count > 0 && !newProjection.Features.Contains(name)) continue;
                    var oldField = oldFeatures.FirstOrDefault(f => f.Name == name);
                    var newField = newFeatures?.FirstOrDefault(f => f.Name == name);
                    if (oldField is null) continue;
                    if (newFeatures is null)
                        result.Add(new BreakingChange(oldService.Name, oldProjection.View, name, $"is removed (view '{oldProjection.View}' is gone)"));
                    else if (newField is null)
                        result.Add(new BreakingChange(oldService.Name, oldProjection.View, name, "is removed"));
                    else if (newField.Type != oldField.Type)
                        result.Add(new BreakingChange(oldService.Name, oldProjection.View, name, $"changes type from {oldField.Type} to {newField.Type}"));
                }
            }
        }
        return result;
    }

    private static IReadOnlyList<Field>? FeaturesOf(RegistrySnapshot s, string view)
        => s.FindFeatureView(view)?.Features ?? s.FindOnDemandFeatureView(view)?.Features;
}
