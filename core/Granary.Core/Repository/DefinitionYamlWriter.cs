using Granary.Definitions;
using YamlDotNet.RepresentationModel;

namespace Granary.Repository;

/// <summary>Writes registry objects in the repository's YAML format: the inverse of <see cref="FeatureRepositoryLoader"/>.</summary>
public static class DefinitionYamlWriter
{
    /// <summary>A definition file holding every object of <paramref name="snapshot"/> (transform sources are not YAML and are left out).</summary>
    public static string Write(RegistrySnapshot snapshot)
    {
        var root = new YamlMappingNode();
        AddSection(root, "entities", snapshot.Entities.Select(EntityNode));
        AddSection(root, "sources", snapshot.DataSources.Select(SourceNode));
        AddSection(root, "feature_views", snapshot.FeatureViews.Select(FeatureViewNode));
        AddSection(root, "on_demand_feature_views", snapshot.OnDemandFeatureViews.Select(OnDemandViewNode));
        AddSection(root, "feature_services", snapshot.FeatureServices.Select(FeatureServiceNode));
        AddSection(root, "permissions", snapshot.Permissions.Select(PermissionNode));
        return Save(root);
    }

    /// <summary>One object as YAML, as it would appear in a definition file's list.</summary>
    public static string Write(RegistryObject value) => Save(value switch
    {
        Entity e => EntityNode(e),
        DataSource s => SourceNode(s),
        FeatureView v => FeatureViewNode(v),
        OnDemandFeatureView o => OnDemandViewNode(o),
        FeatureService f => FeatureServiceNode(f),
        Permission p => PermissionNode(p),
        _ => throw new ArgumentException($"cannot write a {value.GetType().Name} as YAML", nameof(value)),
    });

    private static string Save(YamlNode node)
    {
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        // YamlDotNet ends a document with "...": not wanted in a hand-edited file.
        if (text.EndsWith("...\n", StringComparison.Ordinal)) text = text[..^4];
        else if (text.EndsWith("..." + Environment.NewLine, StringComparison.Ordinal)) text = text[..^(3 + Environment.NewLine.Length)];
        return text;
    }

    private static void AddSection(YamlMappingNode root, string key, IEnumerable<YamlNode> items)
    {
        var list = items.ToList();
        if (list.Count > 0) root.Add(key, new YamlSequenceNode(list));
    }

    private static YamlMappingNode Start(RegistryObject o)
    {
        var node = new YamlMappingNode { { "name", o.Name } };
        return node;
    }

    private static void Finish(YamlMappingNode node, RegistryObject o)
    {
        if (o.Description is { } d) node.Add("description", d);
        if (o.Tags.Count > 0) node.Add("tags", MapNode(o.Tags));
    }

    private static YamlMappingNode MapNode(IReadOnlyDictionary<string, string> map)
    {
        var node = new YamlMappingNode();
        foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal)) node.Add(k, new YamlScalarNode(v) { Style = NeedsQuotes(v) });
        return node;
    }

    // Values YAML would read as something other than a string ("true", "12", "") are quoted.
    private static YamlDotNet.Core.ScalarStyle NeedsQuotes(string v)
        => v.Length == 0 || bool.TryParse(v, out _) || double.TryParse(v, out _) || v is "null" or "~"
            ? YamlDotNet.Core.ScalarStyle.DoubleQuoted
            : YamlDotNet.Core.ScalarStyle.Any;

    private static YamlSequenceNode Names(IEnumerable<string> names)
        => new(names.Select(n => (YamlNode)new YamlScalarNode(n))) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow };

    private static YamlSequenceNode SchemaNode(IEnumerable<Field> fields)
        => new(fields.Select(f =>
        {
            var node = new YamlMappingNode { { "name", f.Name }, { "type", f.Type.ToString() } };
            if (f.Description is { } d) node.Add("description", d);
            if (f.Tags.Count > 0) node.Add("tags", MapNode(f.Tags));
            return (YamlNode)node;
        }));

    private static YamlMappingNode EntityNode(Entity e)
    {
        var node = Start(e);
        node.Add("join_key", e.JoinKey);
        node.Add("value_type", e.ValueType.ToString());
        Finish(node, e);
        return node;
    }

    private static YamlMappingNode SourceNode(DataSource s)
    {
        var node = Start(s);
        switch (s)
        {
            case FileSource f:
                node.Add("type", "file");
                node.Add("path", f.Path);
                break;
            case PostgresSource p:
                node.Add("type", "postgres");
                if (p.Table is { } t) node.Add("table", t);
                if (p.Query is { } q) node.Add("query", new YamlScalarNode(q) { Style = q.Contains('\n') ? YamlDotNet.Core.ScalarStyle.Literal : YamlDotNet.Core.ScalarStyle.Any });
                break;
            case PushSource push:
                node.Add("type", "push");
                node.Add("batch_source", push.BatchSource);
                break;
            case RequestSource r:
                node.Add("type", "request");
                node.Add("schema", SchemaNode(r.Schema));
                break;
        }
        if (s is FileSource or PostgresSource)
        {
            node.Add("timestamp_field", s.TimestampField);
            if (s.CreatedTimestampField is { } c) node.Add("created_timestamp_field", c);
            if (s.FieldMapping.Count > 0) node.Add("field_mapping", MapNode(s.FieldMapping));
        }
        Finish(node, s);
        return node;
    }

    private static YamlMappingNode FeatureViewNode(FeatureView v)
    {
        var node = Start(v);
        node.Add("entities", Names(v.Entities));
        node.Add("source", v.Source);
        if (v.Ttl is { } ttl) node.Add("ttl", DurationText.Format(ttl));
        node.Add("online", v.Online ? "true" : "false");
        if (v.Owner is { } owner) node.Add("owner", owner);
        if (v.FreshnessSla is { } sla) node.Add("freshness_sla", DurationText.Format(sla));
        if (v.MaterializeEvery is { } every) node.Add("materialize_every", DurationText.Format(every));
        if (v.MaterializeLookback is { } lookback) node.Add("materialize_lookback", DurationText.Format(lookback));
        node.Add("schema", SchemaNode(v.Features));
        Finish(node, v);
        return node;
    }

    private static YamlMappingNode OnDemandViewNode(OnDemandFeatureView o)
    {
        var node = Start(o);
        node.Add("sources", Names(o.Sources));
        node.Add("transform", o.Transform);
        node.Add("schema", SchemaNode(o.Features));
        Finish(node, o);
        return node;
    }

    private static YamlMappingNode FeatureServiceNode(FeatureService s)
    {
        var node = Start(s);
        node.Add("features", new YamlSequenceNode(s.Projections.Select(p =>
        {
            if (p.Features.Count == 0 && p.Alias is null && p.JoinKeyMap.Count == 0) return (YamlNode)new YamlScalarNode(p.View);
            var pn = new YamlMappingNode { { "view", p.View } };
            if (p.Features.Count > 0) pn.Add("features", Names(p.Features));
            if (p.Alias is { } a) pn.Add("alias", a);
            if (p.JoinKeyMap.Count > 0) pn.Add("join_key_map", MapNode(p.JoinKeyMap));
            return pn;
        })));
        Finish(node, s);
        return node;
    }

    private static YamlMappingNode PermissionNode(Permission p)
    {
        var node = Start(p);
        if (p.Types.Count > 0) node.Add("types", Names(p.Types));
        if (p.NamePatterns.Count > 0) node.Add("name_patterns", Names(p.NamePatterns));
        if (p.RequiredTags.Count > 0) node.Add("required_tags", MapNode(p.RequiredTags));
        node.Add("actions", Names(p.Actions.Select(global::Granary.Core.Security.PermissionRules.Name).ToList()));
        node.Add("policy", new YamlMappingNode { { "roles", Names(p.Roles) } });
        Finish(node, p);
        return node;
    }
}
