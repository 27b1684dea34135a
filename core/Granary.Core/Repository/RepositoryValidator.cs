using Granary.Definitions;
using Granary.Transforms;

namespace Granary.Repository;

/// <summary>
/// Checks a loaded repository as a whole: duplicate names, references to unknown entities, sources, views and
/// features, transforms that do not compile or do not exist, and (given a schema reader) source columns that
/// the real data does not have. Every error names file, line, the offending value and the known alternatives.
/// </summary>
public static partial class RepositoryValidator
{
    /// <summary>Validates <paramref name="repository"/>; throws <see cref="RepositoryValidationException"/> listing every problem.</summary>
    /// <returns>The compiled transforms (empty when the repository has none), so callers need not compile twice.</returns>
    /// <param name="repository">The loaded repository.</param>
    /// <param name="schemas">Reads real source columns; null skips the column check.</param>
    /// <param name="transforms">Compiles transforms; pass a silo's <see cref="TransformCatalog"/> to reuse its cache. Default: compile afresh.</param>
    /// <param name="cancellationToken">Cancels reading source schemas.</param>
    public static async Task<CompiledTransforms?> ValidateAsync(FeatureRepository repository, ISourceSchemaReader? schemas = null,
        TransformCatalog? transforms = null, CancellationToken cancellationToken = default)
    {
        var errors = new List<RepositoryError>();
        CheckDuplicates(repository, errors);
        var entities = Index(repository.Entities);
        var sources = Index(repository.DataSources);
        var views = Index(repository.FeatureViews);
        var odfvs = Index(repository.OnDemandFeatureViews);

        foreach (var s in repository.DataSources) CheckSource(s, sources, errors);
        foreach (var v in repository.FeatureViews) CheckFeatureView(v, entities, sources, errors);
        var compiled = CompileTransforms(repository, transforms, errors);
        foreach (var o in repository.OnDemandFeatureViews) CheckOnDemandView(o, views, sources, compiled, errors);
        foreach (var fs in repository.FeatureServices) CheckFeatureService(fs, views, odfvs, entities, errors);
        foreach (var p in repository.Permissions) CheckPermission(p, errors);

        // Reading real data is slow and pointless when the definitions are already wrong.
        if (errors.Count == 0 && schemas is not null)
            await CheckColumnsAsync(repository, entities, sources, schemas, errors, cancellationToken);

        if (errors.Count > 0)
            throw new RepositoryValidationException(errors.OrderBy(e => e.Location.File, StringComparer.Ordinal).ThenBy(e => e.Location.Line).ToList());
        return compiled;
    }

    private static Dictionary<string, Defined<T>> Index<T>(IReadOnlyList<Defined<T>> items) where T : RegistryObject
    {
        var result = new Dictionary<string, Defined<T>>(StringComparer.Ordinal);
        foreach (var item in items) result.TryAdd(item.Value.Name, item);
        return result;
    }

    // Sorted, so the list reads the same whatever the file order.
    private static string Known<T>(IEnumerable<T> names)
        => string.Join(", ", names.Select(n => n?.ToString()).Distinct().Order(StringComparer.Ordinal).DefaultIfEmpty("(none)"));

    private static void CheckDuplicates(FeatureRepository r, List<RepositoryError> errors)
    {
        void Check(string kind, IEnumerable<(string Name, SourceLocation Location)> items)
        {
            var first = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
            foreach (var (name, location) in items)
            {
                if (first.TryGetValue(name, out var earlier))
                    errors.Add(new RepositoryError(location, $"duplicate {kind} name '{name}'; first defined at {earlier}"));
                else first[name] = location;
            }
        }
        Check("entity", r.Entities.Select(e => (e.Value.Name, e.At("name"))));
        Check("data source", r.DataSources.Select(e => (e.Value.Name, e.At("name"))));
        // Views and on-demand views share one namespace: "view:feature" must name one of them.
        Check("feature view", r.FeatureViews.Select(e => (e.Value.Name, e.At("name")))
            .Concat(r.OnDemandFeatureViews.Select(e => (e.Value.Name, e.At("name")))));
        Check("feature service", r.FeatureServices.Select(e => (e.Value.Name, e.At("name"))));
        Check("permission", r.Permissions.Select(e => (e.Value.Name, e.At("name"))));
    }

    // The YAML reader checks these as it reads; definitions sent by another client arrive without that check.
    private static void CheckPermission(Defined<Permission> d, List<RepositoryError> errors)
    {
        var p = d.Value;
        foreach (var type in p.Types.Where(t => !global::Granary.Core.Security.PermissionRules.ResourceTypes.Contains(t)))
            errors.Add(new RepositoryError(d.At("types"), $"permission '{p.Name}': type '{type}' is unknown; known: {string.Join(", ", global::Granary.Core.Security.PermissionRules.ResourceTypes)}"));
        foreach (var pattern in p.NamePatterns)
            if (!global::Granary.Core.Security.PermissionRules.TryCompile(pattern, out var problem))
                errors.Add(new RepositoryError(d.At("name_patterns"), $"permission '{p.Name}': name pattern '{pattern}' is not a regular expression: {problem}"));
        if (p.Actions.Count == 0)
            errors.Add(new RepositoryError(d.At("actions"), $"permission '{p.Name}' grants no action; list at least one of {string.Join(", ", global::Granary.Core.Security.PermissionRules.ActionNames)}"));
        if (p.Roles.Count == 0 || p.Roles.Any(string.IsNullOrWhiteSpace))
            errors.Add(new RepositoryError(d.At("policy"), $"permission '{p.Name}' names no role; give policy: {{roles: [role, ...]}}"));
    }

    private static void CheckSource(Defined<DataSource> d, Dictionary<string, Defined<DataSource>> sources, List<RepositoryError> errors)
    {
        if (d.Value is PushSource push)
        {
            if (!sources.TryGetValue(push.BatchSource, out var batch))
                errors.Add(new RepositoryError(d.At("batch_source"), $"push source '{push.Name}' references unknown batch source '{push.BatchSource}'; known: {Known(sources.Values.Where(s => s.Value is FileSource or PostgresSource).Select(s => s.Value.Name))}"));
            else if (batch.Value is not (FileSource or PostgresSource))
                errors.Add(new RepositoryError(d.At("batch_source"), $"push source '{push.Name}': batch source '{push.BatchSource}' must be a file or postgres source, not {KindName(batch.Value)}"));
        }
        var mappedTargets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (column, name) in d.Value.FieldMapping)
            if (!mappedTargets.Add(name))
                errors.Add(new RepositoryError(d.At("field_mapping"), $"data source '{d.Value.Name}': field_mapping maps two columns to '{name}'"));
    }

    private static void CheckFeatureView(Defined<FeatureView> d, Dictionary<string, Defined<Entity>> entities,
        Dictionary<string, Defined<DataSource>> sources, List<RepositoryError> errors)
    {
        var v = d.Value;
        var joinKeys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < v.Entities.Count; i++)
        {
            if (!entities.TryGetValue(v.Entities[i], out var entity))
                errors.Add(new RepositoryError(d.At($"entities[{i}]"), $"feature view '{v.Name}' references unknown entity '{v.Entities[i]}'; known: {Known(entities.Keys)}"));
            else if (!joinKeys.Add(entity.Value.JoinKey))
                errors.Add(new RepositoryError(d.At($"entities[{i}]"), $"feature view '{v.Name}' lists join key '{entity.Value.JoinKey}' twice (entity '{v.Entities[i]}')"));
        }
        if (!sources.TryGetValue(v.Source, out var source))
            errors.Add(new RepositoryError(d.At("source"), $"feature view '{v.Name}' references unknown source '{v.Source}'; known: {Known(sources.Values.Where(s => s.Value is not RequestSource).Select(s => s.Value.Name))}"));
        else if (source.Value is RequestSource)
            errors.Add(new RepositoryError(d.At("source"), $"feature view '{v.Name}': source '{v.Source}' is a request source, which only on-demand feature views can use; use a file, postgres or push source"));
        if (v.Features.Count == 0)
            errors.Add(new RepositoryError(d.At("schema"), $"feature view '{v.Name}' has no features; list them under 'schema'"));
        CheckFields(d.Value.Name, "feature view", v.Features, d, errors);
        foreach (var f in v.Features)
            if (joinKeys.Contains(f.Name))
                errors.Add(new RepositoryError(d.At($"schema[{f.Name}]"), $"feature view '{v.Name}': '{f.Name}' is a join key of its entities, not a feature; remove it from 'schema'"));
        if (v.Ttl is { } ttl && ttl < TimeSpan.Zero)
            errors.Add(new RepositoryError(d.At("ttl"), $"feature view '{v.Name}': ttl must not be negative"));
        CheckDataRules(d, errors);
    }

    private static void CheckFields<T>(string owner, string kind, IReadOnlyList<Field> fields, Defined<T> d, List<RepositoryError> errors) where T : notnull
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in fields)
            if (!seen.Add(f.Name))
                errors.Add(new RepositoryError(d.At($"schema[{f.Name}]"), $"{kind} '{owner}' has feature '{f.Name}' twice"));
    }

    private static CompiledTransforms? CompileTransforms(FeatureRepository r, TransformCatalog? catalog, List<RepositoryError> errors)
    {
        if (r.TransformSources.Count == 0) return null;
        try
        {
            return catalog is not null ? catalog.Compile(r.TransformSources) : TransformCompiler.Compile(r.TransformSources);
        }
        catch (TransformCompilationException e)
        {
            foreach (var error in e.Errors)
                errors.Add(new RepositoryError(new SourceLocation(error.File, error.Line), $"transform does not compile: {error.Id}: {error.Message} (column {error.Column})"));
            return null;
        }
    }

    private static void CheckOnDemandView(Defined<OnDemandFeatureView> d, Dictionary<string, Defined<FeatureView>> views,
        Dictionary<string, Defined<DataSource>> sources, CompiledTransforms? compiled, List<RepositoryError> errors)
    {
        var v = d.Value;
        for (var i = 0; i < v.Sources.Count; i++)
        {
            var name = v.Sources[i];
            if (views.ContainsKey(name) || sources.TryGetValue(name, out var s) && s.Value is RequestSource) continue;
            errors.Add(new RepositoryError(d.At($"sources[{i}]"), $"on-demand feature view '{v.Name}' references unknown source '{name}'; known feature views and request sources: {Known(views.Keys.Concat(sources.Values.Where(x => x.Value is RequestSource).Select(x => x.Value.Name)))}"));
        }
        if (v.Features.Count == 0)
            errors.Add(new RepositoryError(d.At("schema"), $"on-demand feature view '{v.Name}' has no output features; list them under 'schema'"));
        CheckFields(v.Name, "on-demand feature view", v.Features, d, errors);
        if (compiled is null)
        {
            // Compile errors were already reported; only a missing transforms folder is new information here.
            if (errors.All(e => !e.Message.StartsWith("transform does not compile", StringComparison.Ordinal)))
                errors.Add(new RepositoryError(d.At("transform"), $"on-demand feature view '{v.Name}' uses transform '{v.Transform}', but the repository has no {FeatureRepositoryLoader.TransformsFolder}/*.cs files"));
        }
        else if (!compiled.Contains(v.Transform))
            errors.Add(new RepositoryError(d.At("transform"), $"on-demand feature view '{v.Name}' uses unknown transform '{v.Transform}'; known: {Known(compiled.Names)}"));
    }

    private static void CheckFeatureService(Defined<FeatureService> d, Dictionary<string, Defined<FeatureView>> views,
        Dictionary<string, Defined<OnDemandFeatureView>> odfvs, Dictionary<string, Defined<Entity>> entities, List<RepositoryError> errors)
    {
        var s = d.Value;
        if (s.Projections.Count == 0)
            errors.Add(new RepositoryError(d.Location, $"feature service '{s.Name}' selects no features; list views under 'features'"));
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < s.Projections.Count; i++)
        {
            var p = s.Projections[i];
            IReadOnlyList<Field> features;
            IEnumerable<string> joinKeys = [];
            if (views.TryGetValue(p.View, out var view))
            {
                features = view.Value.Features;
                joinKeys = view.Value.Entities.Select(e => entities.TryGetValue(e, out var en) ? en.Value.JoinKey : e);
            }
            else if (odfvs.TryGetValue(p.View, out var odfv)) features = odfv.Value.Features;
            else
            {
                errors.Add(new RepositoryError(d.At($"features[{i}].view"), $"feature service '{s.Name}' references unknown feature view '{p.View}'; known: {Known(views.Keys.Concat(odfvs.Keys))}"));
                continue;
            }
            if (!prefixes.Add(p.NameToUse))
                errors.Add(new RepositoryError(d.At($"features[{i}].view"), $"feature service '{s.Name}' uses '{p.NameToUse}' twice; give one projection an 'alias'"));
            foreach (var f in p.Features)
                if (!features.Any(x => x.Name == f))
                    errors.Add(new RepositoryError(d.At($"features[{i}].features[{f}]"), $"feature service '{s.Name}': feature view '{p.View}' has no feature '{f}'; known: {Known(features.Select(x => x.Name))}"));
            var keys = joinKeys.ToList();
            foreach (var key in p.JoinKeyMap.Keys)
                if (!keys.Contains(key))
                    errors.Add(new RepositoryError(d.At($"features[{i}].join_key_map"), $"feature service '{s.Name}': join_key_map key '{key}' is not a join key of feature view '{p.View}'; known: {Known(keys)}"));
        }
    }

    private static async Task CheckColumnsAsync(FeatureRepository r, Dictionary<string, Defined<Entity>> entities,
        Dictionary<string, Defined<DataSource>> sources, ISourceSchemaReader schemas, List<RepositoryError> errors, CancellationToken ct)
    {
        var columnsBySource = new Dictionary<string, IReadOnlyList<SourceColumn>?>(StringComparer.Ordinal);
        async Task<IReadOnlyList<SourceColumn>?> ColumnsOf(Defined<DataSource> d)
        {
            if (columnsBySource.TryGetValue(d.Value.Name, out var cached)) return cached;
            IReadOnlyList<SourceColumn>? columns = null;
            try
            {
                columns = await schemas.ReadColumnsAsync(d.Value, r.RootPath, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                errors.Add(new RepositoryError(d.At(d.Value is FileSource ? "path" : d.Value is PostgresSource { Table: not null } ? "table" : "query"),
                    $"data source '{d.Value.Name}' cannot be read ({Describe(d.Value)}): {e.Message}"));
            }
            columnsBySource[d.Value.Name] = columns;
            return columns;
        }

        // Sources themselves: their timestamp columns must exist even when no view uses them yet.
        foreach (var d in r.DataSources)
        {
            if (d.Value is not (FileSource or PostgresSource)) continue;
            var columns = await ColumnsOf(d);
            if (columns is null) continue;
            foreach (var (key, column) in new[] { ("timestamp_field", d.Value.TimestampField), ("created_timestamp_field", d.Value.CreatedTimestampField) })
                if (column is not null && !columns.Any(c => c.Name == column))
                    errors.Add(new RepositoryError(d.At(key), $"data source '{d.Value.Name}': {key} '{column}' is not a column of {Describe(d.Value)}; columns: {Known(columns.Select(c => c.Name))}"));
            foreach (var column in d.Value.FieldMapping.Keys)
                if (!columns.Any(c => c.Name == column))
                    errors.Add(new RepositoryError(d.At("field_mapping"), $"data source '{d.Value.Name}': field_mapping column '{column}' is not a column of {Describe(d.Value)}; columns: {Known(columns.Select(c => c.Name))}"));
        }

        foreach (var v in r.FeatureViews)
        {
            var d = sources[v.Value.Source];
            if (d.Value is PushSource push) d = sources[push.BatchSource];
            var columns = await ColumnsOf(d);
            if (columns is null) continue;
            // Definitions use mapped names; the data has the original column names.
            var nameToColumn = d.Value.FieldMapping.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
            var wanted = v.Value.Entities.Select(e => (Name: entities[e].Value.JoinKey, Field: "entities[" + v.Value.Entities.ToList().IndexOf(e) + "]", Kind: "join key", Type: entities[e].Value.ValueType))
                .Concat(v.Value.Features.Select(f => (f.Name, Field: $"schema[{f.Name}]", Kind: "feature", f.Type)));
            foreach (var (name, field, kind, type) in wanted)
            {
                var column = nameToColumn.GetValueOrDefault(name, name);
                var mapped = column == name ? "" : $" (mapped from column '{column}')";
                var found = columns.FirstOrDefault(c => c.Name == column);
                if (found is null)
                    errors.Add(new RepositoryError(v.At(field), $"feature view '{v.Value.Name}': {kind} '{name}'{mapped} is not a column of source '{d.Value.Name}' ({Describe(d.Value)}); columns: {Known(columns.Select(c => c.Name))}"));
                else if (found.ValueType is { } actual && !Compatible(type, actual))
                    errors.Add(new RepositoryError(v.At(field), $"feature view '{v.Value.Name}': {kind} '{name}'{mapped} is declared {type}, but column '{column}' of source '{d.Value.Name}' holds {actual} ({found.Type})"));
            }
        }
    }

    // Numbers may widen or narrow between integer and float widths (the engine casts); other kinds and list-ness must match.
    private static bool Compatible(Definitions.ValueType declared, Definitions.ValueType actual)
    {
        static int Family(ScalarType t) => t switch
        {
            ScalarType.Int32 or ScalarType.Int64 or ScalarType.Float32 or ScalarType.Float64 => 0,
            _ => 1 + (int)t,
        };
        return declared.IsList == actual.IsList && Family(declared.Scalar) == Family(actual.Scalar);
    }

    private static string Describe(DataSource s) => s switch
    {
        FileSource f => f.Path,
        PostgresSource { Table: { } t } => "table " + t,
        PostgresSource p => "query",
        _ => KindName(s),
    };

    internal static string KindName(DataSource s) => s switch
    {
        FileSource => "a file source",
        PostgresSource => "a postgres source",
        PushSource => "a push source",
        RequestSource => "a request source",
        _ => s.GetType().Name,
    };
}
