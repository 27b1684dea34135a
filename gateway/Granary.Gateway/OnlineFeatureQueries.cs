using Granary.Gateway.Limits;
using System.Runtime.CompilerServices;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Observability;
using Granary.Offline;
using Granary.Serving;
using Granary.Transforms;
using Microsoft.Extensions.Options;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway;

/// <summary>
/// What REST and gRPC online reads share: the project's current snapshot (from the registry cache, no grain call per
/// request), the reference checks that tell an unknown object (404) from bad input (400), the plan, the declared type of
/// every entity column, and the read through the entity grains (grouped per silo, or one call per entity: <see cref="GatewayOptions.OnlineRead"/>).
/// </summary>
public sealed class OnlineFeatureQueries(IGrainFactory grains, RegistryCache registry, TransformCatalog transforms, IOptions<GatewayOptions> options,
    FeatureHealth.FeatureLogger? featureLog = null)
{
    private static readonly ConditionalWeakTable<RegistrySnapshot, IReadOnlyDictionary<string, ValueType>> InputTypes = new();
    private readonly IOnlineFeatureSource _source = options.Value.OnlineRead == OnlineReadDesign.PerEntity
        ? new EntityGrainFeatureSource(grains) : new GroupedFeatureSource(grains);

    /// <summary>The gateway's options.</summary>
    public GatewayOptions Options { get; } = options.Value;

    /// <summary>The served project's current registry snapshot; 404 when nothing was applied yet.</summary>
    public async ValueTask<RegistrySnapshot> SnapshotAsync()
    {
        var snapshot = await registry.GetAsync(Options.Project);
        if (snapshot.Version == 0)
            throw new GatewayNotFoundException($"project '{Options.Project}' has no registry version yet", "run 'granary apply' in the feature repository first");
        return snapshot;
    }

    /// <summary>Plans a read of <paramref name="features"/> (view:feature references) or the feature service <paramref name="service"/>: exactly one of them.</summary>
    public HistoricalRetrievalPlan Plan(RegistrySnapshot snapshot, IReadOnlyList<string>? features, string? service, bool fullFeatureNames)
    {
        var hasFeatures = features is { Count: > 0 };
        var hasService = !string.IsNullOrEmpty(service);
        if (hasFeatures == hasService)
            throw new GatewayRequestException(hasFeatures ? "the request gives both 'features' and 'feature_service'" : "the request gives neither 'features' nor 'feature_service'",
                "send \"features\": [\"view:feature\", ...] or \"feature_service\": \"name\", not both");
        if (features is { Count: > 0 } && features.Count > Options.Limits.MaxFeatures)
            throw new GatewayLimitException($"the request names {features.Count} features; this gateway serves at most {Options.Limits.MaxFeatures} per request (limit MaxFeatures)",
                "split the request, or raise Granary:Gateway:Limits:MaxFeatures");
        Func<OnDemandFeatureView, IOnDemandTransform> transform = v => transforms.GetTransform(snapshot, v.Name);
        if (hasService)
        {
            if (!snapshot.FeatureServices.Any(s => s.Name == service))
                throw new GatewayNotFoundException($"feature service '{GatewayErrors.Echo(service)}' is not in the registry of project '{snapshot.Project}'; known: {Known(snapshot.FeatureServices.Select(s => s.Name))}", feastClass: FeastErrors.FeatureServiceNotFound);
            var servicePlan = HistoricalRetrievalPlanner.ForService(snapshot, service!, fullFeatureNames, transform);
            FeatureHealth.FeatureLogger.NoteService(servicePlan, service!); // feature logging's per-service sample rate
            return servicePlan;
        }
        var references = new List<FeatureReference>(features!.Count);
        for (var i = 0; i < features.Count; i++)
        {
            FeatureReference reference;
            try
            {
                reference = FeatureReference.Parse(features[i]);
            }
            catch (FormatException)
            {
                throw new GatewayRequestException($"features[{i}] '{GatewayErrors.Echo(features[i])}' is not a feature reference", "write it as view:feature, e.g. driver_hourly_stats:conv_rate");
            }
            var fields = snapshot.FeatureViews.FirstOrDefault(v => v.Name == reference.View)?.Features
                ?? snapshot.OnDemandFeatureViews.FirstOrDefault(v => v.Name == reference.View)?.Features
                ?? throw new GatewayNotFoundException($"features[{i}] '{GatewayErrors.Echo(features[i])}': feature view '{GatewayErrors.Echo(reference.View)}' is not in the registry of project '{snapshot.Project}'; " +
                                                      $"known: {Known(snapshot.FeatureViews.Select(v => v.Name).Concat(snapshot.OnDemandFeatureViews.Select(v => v.Name)))}", feastClass: FeastErrors.FeatureViewNotFound);
            if (reference.Feature != "*" && !fields.Any(f => f.Name == reference.Feature))
                throw new GatewayNotFoundException($"features[{i}] '{GatewayErrors.Echo(features[i])}': feature view '{reference.View}' has no feature '{GatewayErrors.Echo(reference.Feature)}'; known: {Known(fields.Select(f => f.Name))}");
            references.Add(reference);
        }
        return HistoricalRetrievalPlanner.ForFeatures(snapshot, references, fullFeatureNames, transform);
    }

    /// <summary>
    /// The declared type of an entity-row column: a join key's entity type, or a request source field's type. Throws
    /// (400) for a column that is neither, listing the known ones.
    /// </summary>
    public static ValueType InputType(RegistrySnapshot snapshot, HistoricalRetrievalPlan plan, string column, string where)
    {
        if (TryInputType(snapshot, plan, column, out var type)) return type;
        var types = InputTypes.GetValue(snapshot, BuildInputTypes);
        throw new GatewayRequestException($"{where} '{GatewayErrors.Echo(column)}' is neither a join key nor a request data field of project '{snapshot.Project}'; known: {Known(types.Keys)}",
            "send only join keys and on-demand views' request data");
    }

    /// <summary>The declared type of an entity-row column (<see cref="InputType"/>); false for a column that is neither a join key nor a request data field.</summary>
    public static bool TryInputType(RegistrySnapshot snapshot, HistoricalRetrievalPlan plan, string column, out ValueType type)
    {
        var types = InputTypes.GetValue(snapshot, BuildInputTypes);
        if (types.TryGetValue(column, out type)) return true;
        // A feature service's join-key map renames a join key's column (e.g. 'origin' for 'location_id').
        foreach (var view in plan.Views)
            foreach (var key in view.JoinKeys)
                if (key.EntityColumn == column && types.TryGetValue(key.JoinKey, out type)) return true;
        return false;
    }

    /// <summary>The declared type of every output column of <paramref name="plan"/> (join keys, features, on-demand outputs).</summary>
    public static Dictionary<string, ValueType> OutputTypes(RegistrySnapshot snapshot, HistoricalRetrievalPlan plan)
    {
        var types = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        var inputs = InputTypes.GetValue(snapshot, BuildInputTypes);
        foreach (var view in plan.Views)
        {
            foreach (var key in view.JoinKeys)
                if (inputs.TryGetValue(key.JoinKey, out var keyType)) types.TryAdd(key.EntityColumn, keyType);
            foreach (var feature in view.Features) types.TryAdd(feature.ColumnName, feature.Type);
        }
        foreach (var onDemand in plan.OnDemandViews)
            foreach (var output in onDemand.Outputs) types.TryAdd(output.ColumnName, output.Type);
        return types;
    }

    /// <summary>Reads <paramref name="plan"/> for the typed entity rows, honouring <paramref name="cancellationToken"/> (client gone, deadline).</summary>
    public async Task<OnlineFeaturesResponse> ReadAsync(RegistrySnapshot snapshot, HistoricalRetrievalPlan plan, IReadOnlyDictionary<string, IReadOnlyList<object?>> entities, CancellationToken cancellationToken)
    {
        foreach (var (name, values) in entities)
        {
            if (values.Count > Options.MaxEntityRows)
                throw new GatewayLimitException($"entities '{name}' has {values.Count} rows; this gateway reads at most {Options.MaxEntityRows} per request (limit MaxEntityRows)",
                    "split the request, or raise Granary:Gateway:MaxEntityRows");
        }
        var read = OnlineRetrieval.ExecuteAsync(new OnlineFeaturesRequest { Project = snapshot.Project, Plan = plan, Entities = entities }, _source, cancellationToken);
        // A sample of served rows goes to the feature log, off the request path.
        var response = await (featureLog is null ? read : featureLog.Observe(read, plan, entities));
        OnlineReadMetrics.Record(plan, response, GranaryMetrics.Clock.GetUtcNow());
        return response;
    }

    private static IReadOnlyDictionary<string, ValueType> BuildInputTypes(RegistrySnapshot snapshot)
    {
        var types = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        foreach (var entity in snapshot.Entities) types.TryAdd(entity.JoinKey, entity.ValueType);
        foreach (var source in snapshot.DataSources.OfType<RequestSource>())
            foreach (var field in source.Schema) types.TryAdd(field.Name, field.Type);
        return types;
    }

    internal static string Known(IEnumerable<string> names)
    {
        var list = string.Join(", ", names);
        return list.Length == 0 ? "(none)" : list;
    }
}
