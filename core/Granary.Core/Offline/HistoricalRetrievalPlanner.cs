using Granary.Definitions;

namespace Granary.Offline;

/// <summary>
/// Resolves feature references or a feature service against a registry snapshot into a <see cref="HistoricalRetrievalPlan"/>,
/// rejecting unknown views and features (listing the known ones) and output-name collisions.
/// </summary>
public static class HistoricalRetrievalPlanner
{
    /// <summary>Plans a retrieval of <c>view:feature</c> references (grouped per view in order of first mention).</summary>
    public static HistoricalRetrievalPlan ForFeatures(RegistrySnapshot snapshot, IReadOnlyList<FeatureReference> features, bool fullFeatureNames,
        Func<OnDemandFeatureView, IOnDemandTransform>? transforms = null)
    {
        if (features.Count == 0) throw new HistoricalRetrievalException("no features requested; pass view:feature references or a feature service");
        var projections = new List<FeatureViewProjection>();
        foreach (var group in features.GroupBy(f => f.View))
            projections.Add(new FeatureViewProjection { View = group.Key, Features = group.Select(f => f.Feature).Distinct().ToList() });
        return ForProjections(snapshot, projections, fullFeatureNames, transforms, requireExplicitFeatures: true);
    }

    /// <summary>Plans a retrieval of a feature service's projections.</summary>
    public static HistoricalRetrievalPlan ForService(RegistrySnapshot snapshot, string serviceName, bool fullFeatureNames,
        Func<OnDemandFeatureView, IOnDemandTransform>? transforms = null)
    {
        var service = snapshot.FindFeatureService(serviceName)
            ?? throw new HistoricalRetrievalException($"feature service '{serviceName}' is not in the registry; known services: {Known(snapshot.FeatureServices.Select(s => s.Name))}");
        return ForProjections(snapshot, service.Projections, fullFeatureNames, transforms, requireExplicitFeatures: false);
    }

    private static HistoricalRetrievalPlan ForProjections(RegistrySnapshot snapshot, IReadOnlyList<FeatureViewProjection> projections, bool fullFeatureNames,
        Func<OnDemandFeatureView, IOnDemandTransform>? transforms, bool requireExplicitFeatures)
    {
        var views = new List<ViewBuilder>();
        var onDemand = new List<OnDemandRetrieval>();
        // Outputs are listed in request order, but plain views are planned before on-demand views so that a feature an
        // on-demand view reads is already known as an output column when it is also requested (no hidden duplicate).
        var outputsByProjection = new List<string>[projections.Count];
        var producers = new Dictionary<string, string>(StringComparer.Ordinal);

        void AddOutput(int projectionIndex, string column, string producer)
        {
            if (producers.TryGetValue(column, out var existing))
            {
                throw new HistoricalRetrievalException(fullFeatureNames
                    ? $"output column '{column}' is produced twice ({existing} and {producer}); give one projection an alias"
                    : $"feature name '{column}' is produced by both {existing} and {producer}; use full feature names (--full-feature-names) or request only one");
            }
            producers[column] = producer;
            (outputsByProjection[projectionIndex] ??= []).Add(column);
        }

        for (var index = 0; index < projections.Count; index++)
        {
            var projection = projections[index];
            if (snapshot.FindFeatureView(projection.View) is { } view)
            {
                var builder = FindOrAddView(snapshot, views, view, projection);
                foreach (var feature in Selected(view.Name, view.Features, projection.Features, requireExplicitFeatures))
                {
                    var column = fullFeatureNames ? $"{projection.NameToUse}__{feature.Name}" : feature.Name;
                    AddOutput(index, column, $"'{projection.NameToUse}:{feature.Name}'");
                    builder.Add(feature, column, isOutput: true);
                }
            }
            else if (snapshot.FindOnDemandFeatureView(projection.View) is null)
            {
                var known = snapshot.FeatureViews.Select(v => v.Name).Concat(snapshot.OnDemandFeatureViews.Select(v => v.Name));
                throw new HistoricalRetrievalException($"feature view '{projection.View}' is not in the registry; known feature views: {Known(known)}");
            }
        }

        for (var index = 0; index < projections.Count; index++)
        {
            var projection = projections[index];
            if (snapshot.FindOnDemandFeatureView(projection.View) is { } odfv)
            {
                if (transforms is null)
                    throw new HistoricalRetrievalException($"on-demand feature view '{odfv.Name}' needs its compiled transform '{odfv.Transform}', but no transform catalog was supplied");
                var inputs = new List<TransformInput>();
                foreach (var sourceName in odfv.Sources)
                {
                    if (snapshot.FindFeatureView(sourceName) is { } sourceView)
                    {
                        var builder = FindOrAddView(snapshot, views, sourceView, new FeatureViewProjection { View = sourceView.Name });
                        foreach (var feature in sourceView.Features)
                            inputs.Add(new TransformInput(feature.Name, builder.ColumnFor(feature), FromEntityDataFrame: false));
                    }
                    else if (snapshot.FindDataSource(sourceName) is RequestSource request)
                    {
                        foreach (var field in request.Schema) inputs.Add(new TransformInput(field.Name, field.Name, FromEntityDataFrame: true));
                    }
                    else
                    {
                        throw new HistoricalRetrievalException($"on-demand feature view '{odfv.Name}' reads '{sourceName}', which is neither a feature view nor a request source in the registry");
                    }
                }
                var outputColumns = new List<FeatureColumn>();
                foreach (var feature in Selected(odfv.Name, odfv.Features, projection.Features, requireExplicitFeatures))
                {
                    var column = fullFeatureNames ? $"{projection.NameToUse}__{feature.Name}" : feature.Name;
                    AddOutput(index, column, $"'{projection.NameToUse}:{feature.Name}'");
                    outputColumns.Add(new FeatureColumn(feature.Name, feature.Name, column, IsOutput: true, feature.Type));
                }
                onDemand.Add(new OnDemandRetrieval { View = odfv, Transform = transforms(odfv), Inputs = inputs, Outputs = outputColumns });
            }
        }

        return new HistoricalRetrievalPlan
        {
            Views = views.Select(v => v.Build()).ToList(),
            OnDemandViews = onDemand,
            OutputColumns = outputsByProjection.Where(o => o is not null).SelectMany(o => o).ToList(),
            FullFeatureNames = fullFeatureNames,
        };
    }

    private static IEnumerable<Field> Selected(string viewName, IReadOnlyList<Field> fields, IReadOnlyList<string> requested, bool requireExplicit)
    {
        if (requested.Count == 0)
        {
            if (requireExplicit) throw new HistoricalRetrievalException($"no features of '{viewName}' requested");
            foreach (var field in fields) yield return field;
            yield break;
        }
        foreach (var name in requested)
        {
            var field = fields.FirstOrDefault(f => f.Name == name)
                ?? throw new HistoricalRetrievalException($"feature view '{viewName}' has no feature '{name}'; known: {Known(fields.Select(f => f.Name))}");
            yield return field;
        }
    }

    private static ViewBuilder FindOrAddView(RegistrySnapshot snapshot, List<ViewBuilder> views, FeatureView view, FeatureViewProjection projection)
    {
        foreach (var existing in views)
        {
            if (existing.View.Name == view.Name && existing.NameToUse == projection.NameToUse && existing.SameKeys(projection)) return existing;
        }
        var builder = new ViewBuilder(snapshot, view, projection, views.Count);
        views.Add(builder);
        return builder;
    }

    private static string Known(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "(none)" : string.Join(", ", list);
    }

    /// <summary>Collects one view's features; features needed only by on-demand views get hidden column names.</summary>
    private sealed class ViewBuilder
    {
        private readonly DataSource _source;
        private readonly List<FeatureColumn> _features = [];
        private readonly FeatureViewProjection _projection;
        private readonly int _index;
        private readonly List<JoinKeyBinding> _keys = [];

        public ViewBuilder(RegistrySnapshot snapshot, FeatureView view, FeatureViewProjection projection, int index)
        {
            View = view;
            _projection = projection;
            _index = index;
            _source = OfflineSources.ResolveBatchSource(snapshot, view);
            if (string.IsNullOrEmpty(_source.TimestampField))
                throw new HistoricalRetrievalException($"source '{_source.Name}' of feature view '{view.Name}' has no timestamp field; set timestamp_field on the source");
            foreach (var entityName in view.Entities)
            {
                var entity = snapshot.FindEntity(entityName)
                    ?? throw new HistoricalRetrievalException($"feature view '{view.Name}' names entity '{entityName}', which is not in the registry; known entities: {Known(snapshot.Entities.Select(e => e.Name))}");
                var entityColumn = projection.JoinKeyMap.TryGetValue(entity.JoinKey, out var mapped) ? mapped : entity.JoinKey;
                _keys.Add(new JoinKeyBinding(entity.JoinKey, OfflineSources.StoredColumn(_source, entity.JoinKey), entityColumn));
            }
            foreach (var mappedKey in projection.JoinKeyMap.Keys)
            {
                if (_keys.All(k => k.JoinKey != mappedKey))
                    throw new HistoricalRetrievalException($"join-key map of '{projection.NameToUse}' maps '{mappedKey}', which is not a join key of feature view '{view.Name}'; its join keys: {Known(_keys.Select(k => k.JoinKey))}");
            }
        }

        public FeatureView View { get; }
        public string NameToUse => _projection.NameToUse;

        public bool SameKeys(FeatureViewProjection other) =>
            other.JoinKeyMap.Count == _projection.JoinKeyMap.Count && other.JoinKeyMap.All(kv => _projection.JoinKeyMap.TryGetValue(kv.Key, out var v) && v == kv.Value);

        public void Add(Field feature, string column, bool isOutput)
        {
            var existing = _features.FindIndex(f => f.Feature == feature.Name);
            if (existing >= 0 && _features[existing].IsOutput) return;
            var entry = new FeatureColumn(feature.Name, OfflineSources.StoredColumn(_source, feature.Name), column, isOutput, feature.Type);
            if (existing >= 0) _features[existing] = entry;
            else _features.Add(entry);
        }

        /// <summary>The joined column holding <paramref name="feature"/>, adding it as a hidden column when not yet selected.</summary>
        public string ColumnFor(Field feature)
        {
            var existing = _features.FirstOrDefault(f => f.Feature == feature.Name);
            if (existing is not null) return existing.ColumnName;
            var hidden = $"__granary_v{_index}_{feature.Name}";
            Add(feature, hidden, isOutput: false);
            return hidden;
        }

        public ViewRetrieval Build() => new()
        {
            View = View,
            Source = _source,
            NameToUse = NameToUse,
            JoinKeys = _keys,
            TimestampColumn = OfflineSources.StoredColumn(_source, _source.TimestampField),
            CreatedTimestampColumn = string.IsNullOrEmpty(_source.CreatedTimestampField) ? null : OfflineSources.StoredColumn(_source, _source.CreatedTimestampField),
            Features = _features,
            Ttl = View.HasTtl ? View.Ttl : null,
        };
    }
}
