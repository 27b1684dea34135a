using Granary.Definitions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Repository;

/// <summary>
/// Reads a feature repository folder: granary.yaml, every other <c>*.yaml</c>/<c>*.yml</c> file below the root
/// as definitions (top-level lists <c>entities</c>, <c>sources</c>, <c>feature_views</c>, <c>on_demand_feature_views</c>,
/// <c>feature_services</c>, <c>permissions</c>), and <c>transforms/**/*.cs</c>. Reports every syntax and shape problem with file and line.
/// </summary>
public static class FeatureRepositoryLoader
{
    /// <summary>The folder, below the repository root, holding on-demand transform sources.</summary>
    public const string TransformsFolder = "transforms";

    /// <summary>The top-level keys of a definition file.</summary>
    public static readonly string[] SectionNames = ["entities", "sources", "feature_views", "on_demand_feature_views", "feature_services", "permissions"];

    // Folders that hold data or build output, never definitions.
    private static readonly string[] SkippedFolders = ["data", "bin", "obj", "node_modules", ".git"];

    /// <summary>Loads the repository at <paramref name="root"/>; throws <see cref="RepositoryValidationException"/> listing every problem.</summary>
    public static FeatureRepository Load(string root)
    {
        root = Path.GetFullPath(root);
        if (!Directory.Exists(root))
            throw new RepositoryValidationException([new RepositoryError(new SourceLocation(root, 0),
                $"repository folder '{root}' does not exist; run 'granary init <dir>' or pass --repo <dir>")]);
        var config = RepositoryConfig.Load(root);
        var files = DefinitionFiles(root).Select(f => (Relative(root, f), File.ReadAllText(f)));
        var transforms = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var transformRoot = Path.Combine(root, TransformsFolder);
        if (Directory.Exists(transformRoot))
            foreach (var f in Directory.EnumerateFiles(transformRoot, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                transforms[Relative(root, f)] = File.ReadAllText(f);
        return Parse(root, config, files, transforms);
    }

    /// <summary>Parses definition texts (file name -> YAML) into a repository; used by <see cref="Load"/> and by tests.</summary>
    public static FeatureRepository Parse(string root, RepositoryConfig config, IEnumerable<(string File, string Text)> files,
        IReadOnlyDictionary<string, string> transformSources)
    {
        var errors = new List<RepositoryError>();
        var entities = new List<Defined<Entity>>();
        var sources = new List<Defined<DataSource>>();
        var views = new List<Defined<FeatureView>>();
        var odfvs = new List<Defined<OnDemandFeatureView>>();
        var services = new List<Defined<FeatureService>>();
        var permissions = new List<Defined<Permission>>();

        foreach (var (file, text) in files)
        {
            foreach (var doc in LoadDocuments(text, file, errors))
            {
                if (doc is not YamlMappingNode map)
                {
                    errors.Add(new RepositoryError(new SourceLocation(file, (int)doc.Start.Line),
                        $"a definition file must be a mapping with the lists {string.Join(", ", SectionNames)}"));
                    continue;
                }
                var top = new YamlObject(file, map, file, errors);
                top.RejectUnknownKeys(SectionNames);
                foreach (var item in top.Items("entities")) Read(item, top, errors, "entity", ReadEntity, entities);
                foreach (var item in top.Items("sources")) Read(item, top, errors, "data source", ReadSource, sources);
                foreach (var item in top.Items("feature_views")) Read(item, top, errors, "feature view", ReadFeatureView, views);
                foreach (var item in top.Items("on_demand_feature_views")) Read(item, top, errors, "on-demand feature view", ReadOnDemandView, odfvs);
                foreach (var item in top.Items("feature_services")) Read(item, top, errors, "feature service", ReadFeatureService, services);
                foreach (var item in top.Items("permissions")) Read(item, top, errors, "permission", ReadPermission, permissions);
            }
        }
        if (errors.Count > 0) throw new RepositoryValidationException(errors);
        return new FeatureRepository
        {
            RootPath = root,
            Config = config,
            Entities = entities,
            DataSources = sources,
            FeatureViews = views,
            OnDemandFeatureViews = odfvs,
            FeatureServices = services,
            Permissions = permissions,
            TransformSources = transformSources,
        };
    }

    /// <summary>Whether <paramref name="name"/> is a valid object name: letters, digits, '_' and '-', starting with a letter or '_'.</summary>
    public static bool IsValidName(string name)
        => name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
           && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    internal static YamlMappingNode? LoadSingleMapping(string text, string file, List<RepositoryError> errors)
    {
        var docs = LoadDocuments(text, file, errors);
        if (docs.Count == 0) return null;
        if (docs[0] is YamlMappingNode map) return map;
        errors.Add(new RepositoryError(new SourceLocation(file, (int)docs[0].Start.Line), $"{file} must be a mapping of settings"));
        return null;
    }

    private static List<YamlNode> LoadDocuments(string text, string file, List<RepositoryError> errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            // An inline [list] or {mapping} left open makes YamlDotNet fail far from the bracket (at the next block key, or with
            // a bare InvalidOperationException at the end of the text): point at the bracket itself.
            if (UnclosedFlowBracket(text) is var (bracket, line))
            {
                var close = bracket == '[' ? ']' : '}';
                errors.Add(new RepositoryError(new SourceLocation(file, line),
                    $"YAML syntax error: '{bracket}' is never closed; add the matching '{close}' (an inline [list] or {{mapping}} must close before the next key)"));
                return [];
            }
            var at = e is YamlException y ? (int)y.Start.Line : 0;
            // YamlDotNet's message repeats the position; keep the reason only.
            var reason = e.InnerException?.Message ?? e.Message;
            var idx = reason.IndexOf("): ", StringComparison.Ordinal);
            errors.Add(new RepositoryError(new SourceLocation(file, at), "YAML syntax error: " + (idx >= 0 ? reason[(idx + 3)..] : reason)));
            return [];
        }
        return stream.Documents.Select(d => d.RootNode)
            .Where(n => n is not YamlScalarNode { Value: null or "" })
            .ToList();
    }

    /// <summary>The innermost '[' or '{' still open where the YAML tokens end or stop making sense, with its 1-based line; null when every one closes.</summary>
    private static (char Bracket, int Line)? UnclosedFlowBracket(string text)
    {
        var open = new Stack<(char Bracket, int Line)>();
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        try
        {
            while (scanner.MoveNext())
            {
                switch (scanner.Current)
                {
                    case YamlDotNet.Core.Tokens.FlowSequenceStart t: open.Push(('[', (int)t.Start.Line)); break;
                    case YamlDotNet.Core.Tokens.FlowMappingStart t: open.Push(('{', (int)t.Start.Line)); break;
                    case YamlDotNet.Core.Tokens.FlowSequenceEnd or YamlDotNet.Core.Tokens.FlowMappingEnd when open.Count > 0: open.Pop(); break;
                    // A block entry or key at the start of a line cannot be inside an inline collection: the bracket before it was left open.
                    case YamlDotNet.Core.Tokens.BlockEntry or YamlDotNet.Core.Tokens.BlockMappingStart or YamlDotNet.Core.Tokens.BlockSequenceStart when open.Count > 0:
                        return open.Peek();
                }
            }
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            // The tokens stop here; whatever is still open is the likely cause.
        }
        return open.Count > 0 ? open.Peek() : null;
    }

    private delegate T? ObjectReader<T>(YamlObject o, Dictionary<string, SourceLocation> fields);

    private static void Read<T>(YamlNode item, YamlObject parent, List<RepositoryError> errors, string kind,
        ObjectReader<T> reader, List<Defined<T>> into) where T : RegistryObject
    {
        if (item is not YamlMappingNode map)
        {
            parent.Error(item, $"each {kind} must be a mapping with at least 'name'");
            return;
        }
        var o = new YamlObject(parent.File, map, kind, errors);
        var errorsBefore = errors.Count;
        var name = o.String("name", required: true);
        if (name is null) return;
        o.What = $"{kind} '{name}'";
        if (!IsValidName(name)) o.Error("name", $"{kind} name '{name}' must be letters, digits, '_' or '-', starting with a letter or '_'");
        var fields = new Dictionary<string, SourceLocation>(StringComparer.Ordinal) { ["name"] = o.LocationOf("name") };
        var value = reader(o, fields);
        if (value is null || errors.Count > errorsBefore) return;
        into.Add(new Defined<T>(value, o.Location, fields));
    }

    private static (string? Description, Dictionary<string, string> Tags) Common(YamlObject o)
        => (o.String("description"), o.Map("tags"));

    private static Entity? ReadEntity(YamlObject o, Dictionary<string, SourceLocation> fields)
    {
        o.RejectUnknownKeys("name", "join_key", "value_type", "description", "tags");
        var name = o.String("name")!;
        var (description, tags) = Common(o);
        var type = o.Type("value_type", new ValueType(ScalarType.Int64));
        fields["value_type"] = o.LocationOf("value_type");
        if (type is null) return null;
        return new Entity { Name = name, JoinKey = o.String("join_key") ?? name, ValueType = type.Value, Description = description, Tags = tags };
    }

    private static readonly string[] SourceTypes = ["file", "postgres", "push", "request"];

    private static DataSource? ReadSource(YamlObject o, Dictionary<string, SourceLocation> fields)
    {
        var name = o.String("name")!;
        var (description, tags) = Common(o);
        var type = o.String("type", required: true);
        foreach (var key in new[] { "type", "path", "table", "query", "batch_source", "timestamp_field", "created_timestamp_field", "field_mapping" })
            fields[key] = o.LocationOf(key);
        string[] common = ["name", "type", "description", "tags"];
        string[] timed = [.. common, "timestamp_field", "created_timestamp_field", "field_mapping"];
        switch (type)
        {
            case "file":
                o.RejectUnknownKeys([.. timed, "path"]);
                var path = o.String("path", required: true);
                if (path is null) return null;
                return Timed(o, new FileSource { Name = name, Path = path, Description = description, Tags = tags });
            case "postgres":
                o.RejectUnknownKeys([.. timed, "table", "query"]);
                var table = o.String("table");
                var query = o.String("query");
                if ((table is null) == (query is null))
                {
                    o.Error("type", $"{o.What}: a postgres source needs exactly one of 'table' and 'query'");
                    return null;
                }
                return Timed(o, new PostgresSource { Name = name, Table = table, Query = query, Description = description, Tags = tags });
            case "push":
                o.RejectUnknownKeys([.. common, "batch_source", "stream"]);
                var batch = o.String("batch_source", required: true);
                fields["stream"] = o.LocationOf("stream");
                var stream = o.Has("stream") ? ReadStream(o) : null;
                if (batch is null || (o.Has("stream") && stream is null)) return null;
                return new PushSource { Name = name, BatchSource = batch, Stream = stream, Description = description, Tags = tags };
            case "request":
                o.RejectUnknownKeys([.. common, "schema"]);
                var schema = ReadSchema(o, "schema", fields);
                if (schema is null) return null;
                return new RequestSource { Name = name, Schema = schema, Description = description, Tags = tags };
            case null:
                return null;
            default:
                o.Error("type", $"{o.What}: type '{type}' is unknown; known: {string.Join(", ", SourceTypes)}");
                return null;
        }
    }

    private static readonly string[] StreamKeys =
        ["type", "connection", "key", "group", "event_id_field", "event_time_field", "field_mapping", "batch_size", "batch_time", "claim_after", "dead_letter_key", "to"];

    /// <summary>A push source's <c>stream:</c> mapping; null (with errors at their lines) when it does not fit.</summary>
    private static StreamDefinition? ReadStream(YamlObject source)
    {
        if (source.Node("stream") is not YamlMappingNode map)
        {
            source.Error("stream", $"{source.What}: 'stream' must be a mapping with type, key, group, event_id_field and event_time_field");
            return null;
        }
        var o = new YamlObject(source.File, map, $"{source.What} stream", source.Errors);
        var before = o.Errors.Count;
        o.RejectUnknownKeys(StreamKeys);
        var type = o.String("type", required: true);
        if (type is not null && !StreamDefinition.Types.Contains(type))
            o.Error("type", $"{o.What}: type '{type}' is unknown; known: {string.Join(", ", StreamDefinition.Types)} (a Kafka source is not built)");
        var key = o.String("key", required: true);
        var group = o.String("group", required: true);
        var eventId = o.String("event_id_field", required: true);
        var eventTime = o.String("event_time_field", required: true);
        var batchSize = StreamDefinition.DefaultBatchSize;
        if (o.String("batch_size") is { } sizeText
            && (!int.TryParse(sizeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out batchSize) || batchSize is < 1 or > 100_000))
            o.Error("batch_size", $"{o.What}: batch_size '{sizeText}' must be a whole number from 1 to 100000 (events per push)");
        var batchTime = Milliseconds(o, "batch_time") ?? StreamDefinition.DefaultBatchTime;
        if (batchTime <= TimeSpan.Zero) o.Error("batch_time", $"{o.What}: batch_time must be longer than 0 (how long a micro-batch waits to fill), e.g. 5s");
        var claimAfter = o.Duration("claim_after") ?? StreamDefinition.DefaultClaimAfter;
        if (claimAfter < TimeSpan.FromSeconds(1))
            o.Error("claim_after", $"{o.What}: claim_after {DurationText.Format(claimAfter)} is shorter than 1s; a live worker's events would be taken from it; use 1s or more (default {DurationText.Format(StreamDefinition.DefaultClaimAfter)})");
        var to = o.String("to") ?? StreamDefinition.DefaultTo;
        if (!StreamDefinition.Modes.Contains(to))
            o.Error("to", $"{o.What}: to '{to}' is not a push mode; use {string.Join(", ", StreamDefinition.Modes)}");
        var mapping = o.Map("field_mapping");
        if (type is null || key is null || group is null || eventId is null || eventTime is null || o.Errors.Count > before) return null;
        return new StreamDefinition
        {
            Type = type, Connection = o.String("connection"), Key = key, Group = group, EventIdField = eventId, EventTimeField = eventTime,
            FieldMapping = mapping, BatchSize = batchSize, BatchTime = batchTime, ClaimAfter = claimAfter, DeadLetterKey = o.String("dead_letter_key"), To = to,
        };
    }

    /// <summary>A duration that may be shorter than a second: <c>&lt;n&gt;ms</c>, or any form <see cref="YamlObject.Duration"/> reads.</summary>
    private static TimeSpan? Milliseconds(YamlObject o, string key)
    {
        if (o.String(key) is { } text && text.EndsWith("ms", StringComparison.Ordinal))
        {
            if (int.TryParse(text.AsSpan(0, text.Length - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms))
                return TimeSpan.FromMilliseconds(ms);
            o.Error(key, $"{o.What}: {key} '{text}' is not a duration; use a whole number of milliseconds (e.g. 200ms) or {DurationText.Forms}");
            return null;
        }
        return o.Duration(key);
    }

    private static DataSource Timed(YamlObject o, DataSource source) => source with
    {
        TimestampField = o.String("timestamp_field", required: true) ?? "",
        CreatedTimestampField = o.String("created_timestamp_field"),
        FieldMapping = o.Map("field_mapping"),
    };

    private static List<Field>? ReadSchema(YamlObject o, string key, Dictionary<string, SourceLocation> fields, bool withRules = false)
    {
        var result = new List<Field>();
        var ok = true;
        foreach (var item in o.Items(key, required: true))
        {
            if (item is not YamlMappingNode map)
            {
                o.Error(item, $"{o.What}: each '{key}' entry must be a mapping with 'name' and 'type'");
                ok = false;
                continue;
            }
            var before = o.Errors.Count;
            var f = new YamlObject(o.File, map, o.What, o.Errors);
            if (withRules) f.RejectUnknownKeys("name", "type", "description", "tags", "rules");
            else f.RejectUnknownKeys("name", "type", "description", "tags");
            var name = f.String("name", required: true);
            if (name is not null) f.What = $"{o.What} field '{name}'";
            var type = f.Type("type");
            var rules = withRules ? DataRuleYaml.ReadRules(f) : [];
            if (name is null || type is null || rules is null || o.Errors.Count > before) { ok = false; continue; }
            fields[$"{key}[{name}]"] = f.Location;
            if (rules.Count > 0) fields[$"{key}[{name}].rules"] = f.LocationOf("rules");
            result.Add(new Field(name, type.Value, f.String("description")) { Tags = f.Map("tags"), Rules = rules });
        }
        return ok ? result : null;
    }

    private static FeatureView? ReadFeatureView(YamlObject o, Dictionary<string, SourceLocation> fields)
    {
        o.RejectUnknownKeys("name", "entities", "schema", "source", "ttl", "online", "owner", "freshness_sla",
            "materialize_every", "materialize_lookback", "quality_gate", "description", "tags");
        var (description, tags) = Common(o);
        var entities = o.Strings("entities");
        for (var i = 0; i < entities.Count; i++) fields[$"entities[{i}]"] = entities[i].Location;
        foreach (var key in new[] { "source", "ttl", "freshness_sla", "schema", "materialize_every", "materialize_lookback" }) fields[key] = o.LocationOf(key);
        var source = o.String("source", required: true);
        var ttl = o.Duration("ttl");
        var sla = o.Duration("freshness_sla");
        var every = o.Duration("materialize_every");
        var lookback = o.Duration("materialize_lookback");
        if (every is { } e && e < TimeSpan.FromMinutes(1))
            o.Error("materialize_every", $"materialize_every {DurationText.Format(e)} is shorter than a minute, the shortest schedule Orleans reminders run; use 1m or more");
        if (lookback is not null && every is null)
            o.Error("materialize_lookback", "materialize_lookback needs materialize_every (how often to run); add it or remove the lookback");
        var online = o.Bool("online");
        fields["quality_gate"] = o.LocationOf("quality_gate");
        var gate = DataRuleYaml.ReadGate(o);
        var schema = ReadSchema(o, "schema", fields, withRules: true);
        if (schema is null || source is null) return null;
        return new FeatureView
        {
            Name = o.String("name")!,
            Entities = entities.Select(e => e.Value).ToList(),
            Features = schema,
            Source = source,
            Ttl = ttl,
            Online = online ?? true,
            Owner = o.String("owner"),
            FreshnessSla = sla,
            MaterializeEvery = every,
            MaterializeLookback = lookback,
            QualityGate = gate,
            Description = description,
            Tags = tags,
        };
    }

    private static OnDemandFeatureView? ReadOnDemandView(YamlObject o, Dictionary<string, SourceLocation> fields)
    {
        o.RejectUnknownKeys("name", "sources", "schema", "transform", "description", "tags");
        var (description, tags) = Common(o);
        var sources = o.Strings("sources", required: true);
        for (var i = 0; i < sources.Count; i++) fields[$"sources[{i}]"] = sources[i].Location;
        fields["transform"] = o.LocationOf("transform");
        var transform = o.String("transform", required: true);
        var schema = ReadSchema(o, "schema", fields);
        if (schema is null || transform is null) return null;
        return new OnDemandFeatureView
        {
            Name = o.String("name")!,
            Sources = sources.Select(s => s.Value).ToList(),
            Features = schema,
            Transform = transform,
            Description = description,
            Tags = tags,
        };
    }

    private static FeatureService? ReadFeatureService(YamlObject o, Dictionary<string, SourceLocation> fields)
    {
        o.RejectUnknownKeys("name", "features", "description", "tags");
        var (description, tags) = Common(o);
        var projections = new List<FeatureViewProjection>();
        var index = 0;
        foreach (var item in o.Items("features", required: true))
        {
            var i = index++;
            if (item is YamlScalarNode { Value: { Length: > 0 } whole })
            {
                // "- driver_stats" selects the whole view.
                fields[$"features[{i}].view"] = o.At(item);
                projections.Add(new FeatureViewProjection { View = whole });
                continue;
            }
            if (item is not YamlMappingNode map)
            {
                o.Error(item, $"{o.What}: each 'features' entry must be a view name or a mapping with 'view'");
                continue;
            }
            var p = new YamlObject(o.File, map, o.What, o.Errors);
            p.RejectUnknownKeys("view", "features", "alias", "join_key_map");
            var view = p.String("view", required: true);
            fields[$"features[{i}].view"] = p.LocationOf("view");
            var selected = p.Strings("features");
            foreach (var (feature, location) in selected) fields[$"features[{i}].features[{feature}]"] = location;
            fields[$"features[{i}].join_key_map"] = p.LocationOf("join_key_map");
            fields[$"features[{i}].alias"] = p.LocationOf("alias");
            if (view is null) continue;
            projections.Add(new FeatureViewProjection
            {
                View = view,
                Features = selected.Select(s => s.Value).ToList(),
                Alias = p.String("alias"),
                JoinKeyMap = p.Map("join_key_map"),
            });
        }
        return new FeatureService { Name = o.String("name")!, Projections = projections, Description = description, Tags = tags };
    }

    // Feast's Permission: types, name_patterns, required_tags, actions and a role policy (feast/permissions/permission.py).
    private static Permission? ReadPermission(YamlObject o, Dictionary<string, SourceLocation> fields)
    {
        o.RejectUnknownKeys("name", "types", "name_patterns", "required_tags", "actions", "policy", "description", "tags");
        var (description, tags) = Common(o);
        var types = new List<string>();
        foreach (var (type, location) in o.Strings("types"))
        {
            if (global::Granary.Core.Security.PermissionRules.ResourceTypes.Contains(type)) types.Add(type);
            else o.Errors.Add(new RepositoryError(location, $"{o.What}: type '{type}' is unknown; known: {string.Join(", ", global::Granary.Core.Security.PermissionRules.ResourceTypes)}"));
        }
        var patterns = new List<string>();
        foreach (var (pattern, location) in o.Strings("name_patterns"))
        {
            if (global::Granary.Core.Security.PermissionRules.TryCompile(pattern, out var problem)) patterns.Add(pattern);
            else o.Errors.Add(new RepositoryError(location, $"{o.What}: name pattern '{pattern}' is not a regular expression: {problem}"));
        }
        var actions = new List<global::Granary.Core.Security.PermissionAction>();
        foreach (var (action, location) in o.Strings("actions", required: true))
        {
            if (string.Equals(action, "ALL", StringComparison.OrdinalIgnoreCase)) actions.AddRange(global::Granary.Core.Security.PermissionRules.AllActions);
            else if (global::Granary.Core.Security.PermissionRules.TryParseAction(action, out var parsed)) actions.Add(parsed);
            else o.Errors.Add(new RepositoryError(location, $"{o.What}: action '{action}' is unknown; known: {string.Join(", ", global::Granary.Core.Security.PermissionRules.ActionNames)} (or ALL)"));
        }
        var roles = new List<string>();
        if (o.Node("policy") is not YamlMappingNode policyNode)
            o.Error(o.Has("policy") ? "policy" : "name", $"{o.What}: 'policy' is required, a mapping such as policy: {{roles: [reader]}}");
        else
        {
            var policy = new YamlObject(o.File, policyNode, $"{o.What} policy", o.Errors);
            policy.RejectUnknownKeys("roles");
            roles.AddRange(policy.Strings("roles", required: true).Select(r => r.Value));
            if (roles.Count == 0 && policy.Has("roles")) o.Error("policy", $"{o.What}: policy names no role; give policy: {{roles: [role, ...]}}");
        }
        return new Permission
        {
            Name = o.String("name")!, Types = types, NamePatterns = patterns, RequiredTags = o.Map("required_tags"),
            Actions = actions.Distinct().ToList(), Roles = roles, Description = description, Tags = tags,
        };
    }

    private static IEnumerable<string> DefinitionFiles(string root)
    {
        var stack = new Stack<string>();
        stack.Push(root);
        var found = new List<string>();
        while (stack.Count > 0)
        {
            var dir = stack.Pop();
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                var name = Path.GetFileName(sub);
                if (name.StartsWith('.') || (dir == root && Array.IndexOf(SkippedFolders, name) >= 0)) continue;
                stack.Push(sub);
            }
            foreach (var f in Directory.EnumerateFiles(dir))
            {
                if (!(f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))) continue;
                if (dir == root && Path.GetFileName(f) == RepositoryConfig.FileName) continue;
                found.Add(f);
            }
        }
        return found.Order(StringComparer.Ordinal);
    }

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');
}
