using Granary.Core.Security;
using Granary.Gateway.Security;
using Feast.Registry;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Granary.Definitions;
using Granary.Grains.Registry;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Feast's <c>feast.registry.RegistryServer</c>, read-only: what a Feast SDK with <c>registry: {registry_type: remote}</c>
/// calls, answered from the served project's current registry version (the registry cache follows every apply), mapped
/// by <see cref="FeastRegistryMapper"/>. Write methods answer UNIMPLEMENTED: definitions change through <c>granary apply</c>.
/// Every answer holds only the objects the caller may DESCRIBE (others are as if absent), as Feast's registry server
/// filters its lists by permission.
/// </summary>
public sealed class FeastRegistryGrpcService(RegistryCache registry, IOptions<GatewayOptions> options, GatewayAuthorization authorization) : RegistryServer.RegistryServerBase
{
    private readonly string _project = options.Value.Project;

    private async Task<FeastRegistry> ReadAsync(string project, ServerCallContext context)
    {
        if (project.Length > 0 && project != _project)
            throw new GatewayNotFoundException($"project '{GatewayErrors.Echo(project)}' is not served here; this gateway serves project '{_project}'",
                $"set project: {_project} in feature_store.yaml, or point the registry at the gateway of project '{GatewayErrors.Echo(project)}'");
        // Unfiltered, the mapping is shared by every read of the version; filtered, it is made for this caller.
        return FeastRegistryMapper.Get(authorization.Describable(context.GetHttpContext(), await registry.GetAsync(_project), listPermissions: true));
    }

    private static T Find<T>(IReadOnlyDictionary<string, T> byName, string name, string kind, string project)
        => byName.TryGetValue(name, out var found) ? found
            : throw new GatewayNotFoundException($"{kind} '{GatewayErrors.Echo(name)}' does not exist in project '{project}'; known: {Known(byName.Keys)}");

    private static string Known(IEnumerable<string> names)
    {
        var list = string.Join(", ", names.Order(StringComparer.Ordinal));
        return list.Length == 0 ? "none" : list;
    }

    /// <summary>Feast's list filter: an object is listed when it carries every requested tag with the requested value.</summary>
    private static bool HasTags(MapField<string, string> tags, MapField<string, string> wanted)
    {
        foreach (var (key, value) in wanted)
            if (!tags.TryGetValue(key, out var held) || held != value) return false;
        return true;
    }

    private static void AddTagged<T>(RepeatedField<T> into, IEnumerable<T> items, Func<T, MapField<string, string>> tags, MapField<string, string> wanted)
    {
        foreach (var item in items)
            if (HasTags(tags(item), wanted)) into.Add(item);
    }

    private static RpcException ReadOnly(string method) => new(new Status(StatusCode.Unimplemented,
        $"{method}: Granary's registry is read-only over Feast's registry API; change definitions in the feature repository's YAML and run 'granary apply'"));

    private static RpcException NotServed(string method, string what) => new(new Status(StatusCode.Unimplemented,
        $"{method}: {what} is not served by Granary's Feast registry API; see docs/feast-compatibility.md"));

    // ---- projects ----

    /// <inheritdoc/>
    public override async Task<ListProjectsResponse> ListProjects(ListProjectsRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync("", context);
        var response = new ListProjectsResponse();
        // A project exists from its first apply on; before that there is nothing to list.
        if (feast.Snapshot.Version > 0)
            foreach (var project in feast.Registry.Projects)
                if (HasTags(project.Spec.Tags, request.Tags)) response.Projects.Add(project);
        return response;
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.Project> GetProject(GetProjectRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync(request.Name, context);
        if (feast.Snapshot.Version == 0)
            throw new GatewayNotFoundException($"project '{_project}' has no registry version yet", "run 'granary apply' in the feature repository first");
        return feast.Registry.Projects[0];
    }

    /// <inheritdoc/>
    public override async Task<ListProjectMetadataResponse> ListProjectMetadata(ListProjectMetadataRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync(request.Project, context);
        var response = new ListProjectMetadataResponse();
#pragma warning disable CS0612 // Feast's deprecated project_metadata is what this method answers
        response.ProjectMetadata.AddRange(feast.Registry.ProjectMetadata);
#pragma warning restore CS0612
        return response;
    }

    // ---- entities, data sources ----

    /// <inheritdoc/>
    public override async Task<Feast.Core.Entity> GetEntity(GetEntityRequest request, ServerCallContext context)
        => Find((await ReadAsync(request.Project, context)).Entities, request.Name, "entity", _project);

    /// <inheritdoc/>
    public override async Task<ListEntitiesResponse> ListEntities(ListEntitiesRequest request, ServerCallContext context)
    {
        var response = new ListEntitiesResponse();
        AddTagged(response.Entities, (await ReadAsync(request.Project, context)).Registry.Entities, e => e.Spec.Tags, request.Tags);
        return response;
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.DataSource> GetDataSource(GetDataSourceRequest request, ServerCallContext context)
        => Find((await ReadAsync(request.Project, context)).DataSources, request.Name, "data source", _project);

    /// <inheritdoc/>
    public override async Task<ListDataSourcesResponse> ListDataSources(ListDataSourcesRequest request, ServerCallContext context)
    {
        var response = new ListDataSourcesResponse();
        AddTagged(response.DataSources, (await ReadAsync(request.Project, context)).Registry.DataSources, s => s.Tags, request.Tags);
        return response;
    }

    // ---- feature views of every kind ----

    /// <inheritdoc/>
    public override async Task<Feast.Core.FeatureView> GetFeatureView(GetFeatureViewRequest request, ServerCallContext context)
        => Find((await ReadAsync(request.Project, context)).FeatureViews, request.Name, "feature view", _project);

    /// <inheritdoc/>
    public override async Task<ListFeatureViewsResponse> ListFeatureViews(ListFeatureViewsRequest request, ServerCallContext context)
    {
        var response = new ListFeatureViewsResponse();
        AddTagged(response.FeatureViews, (await ReadAsync(request.Project, context)).Registry.FeatureViews, v => v.Spec.Tags, request.Tags);
        return response;
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.OnDemandFeatureView> GetOnDemandFeatureView(GetOnDemandFeatureViewRequest request, ServerCallContext context)
        => Find((await ReadAsync(request.Project, context)).OnDemandFeatureViews, request.Name, "on-demand feature view", _project);

    /// <inheritdoc/>
    public override async Task<ListOnDemandFeatureViewsResponse> ListOnDemandFeatureViews(ListOnDemandFeatureViewsRequest request, ServerCallContext context)
    {
        var response = new ListOnDemandFeatureViewsResponse();
        AddTagged(response.OnDemandFeatureViews, (await ReadAsync(request.Project, context)).Registry.OnDemandFeatureViews, v => v.Spec.Tags, request.Tags);
        return response;
    }

    /// <inheritdoc/>
    /// <remarks>Granary has no stream feature views: a view fed by a push source is a feature view with a stream source, as in Feast.</remarks>
    public override async Task<Feast.Core.StreamFeatureView> GetStreamFeatureView(GetStreamFeatureViewRequest request, ServerCallContext context)
        => Find(new Dictionary<string, Feast.Core.StreamFeatureView>(), request.Name, "stream feature view", (await ReadAsync(request.Project, context)).Snapshot.Project);

    /// <inheritdoc/>
    public override async Task<ListStreamFeatureViewsResponse> ListStreamFeatureViews(ListStreamFeatureViewsRequest request, ServerCallContext context)
    {
        await ReadAsync(request.Project, context);
        return new ListStreamFeatureViewsResponse();
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.LabelView> GetLabelView(GetLabelViewRequest request, ServerCallContext context)
        => Find(new Dictionary<string, Feast.Core.LabelView>(), request.Name, "label view", (await ReadAsync(request.Project, context)).Snapshot.Project);

    /// <inheritdoc/>
    public override async Task<ListLabelViewsResponse> ListLabelViews(ListLabelViewsRequest request, ServerCallContext context)
    {
        await ReadAsync(request.Project, context);
        return new ListLabelViewsResponse();
    }

    /// <inheritdoc/>
    public override async Task<GetAnyFeatureViewResponse> GetAnyFeatureView(GetAnyFeatureViewRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync(request.Project, context);
        if (feast.FeatureViews.TryGetValue(request.Name, out var view))
            return new GetAnyFeatureViewResponse { AnyFeatureView = new AnyFeatureView { FeatureView = view } };
        if (feast.OnDemandFeatureViews.TryGetValue(request.Name, out var onDemand))
            return new GetAnyFeatureViewResponse { AnyFeatureView = new AnyFeatureView { OnDemandFeatureView = onDemand } };
        throw new GatewayNotFoundException($"feature view '{GatewayErrors.Echo(request.Name)}' does not exist in project '{_project}'; " +
                                           $"known: {Known(feast.FeatureViews.Keys.Concat(feast.OnDemandFeatureViews.Keys))}");
    }

    /// <inheritdoc/>
    /// <remarks>Filters by tags, entity, feature, feature service and data source, as Feast's server does.</remarks>
    public override async Task<ListAllFeatureViewsResponse> ListAllFeatureViews(ListAllFeatureViewsRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync(request.Project, context);
        var inService = request.FeatureService.Length == 0 ? null
            : feast.FeatureServices.TryGetValue(request.FeatureService, out var service) ? service.Spec.Features.Select(p => p.FeatureViewName).ToHashSet(StringComparer.Ordinal)
            : [];
        var response = new ListAllFeatureViewsResponse();
        foreach (var view in feast.Registry.FeatureViews)
        {
            var spec = view.Spec;
            if (!HasTags(spec.Tags, request.Tags)) continue;
            if (request.Entity.Length > 0 && !spec.Entities.Contains(request.Entity)) continue;
            if (request.Feature.Length > 0 && !spec.Features.Any(f => f.Name == request.Feature)) continue;
            if (inService is not null && !inService.Contains(spec.Name)) continue;
            if (request.DataSource.Length > 0 && spec.BatchSource?.Name != request.DataSource && spec.StreamSource?.Name != request.DataSource) continue;
            response.FeatureViews.Add(new AnyFeatureView { FeatureView = view });
        }
        foreach (var view in feast.Registry.OnDemandFeatureViews)
        {
            var spec = view.Spec;
            if (!HasTags(spec.Tags, request.Tags)) continue;
            if (request.Entity.Length > 0) continue; // on-demand views are keyed by their sources, not entities of their own
            if (request.Feature.Length > 0 && !spec.Features.Any(f => f.Name == request.Feature)) continue;
            if (inService is not null && !inService.Contains(spec.Name)) continue;
            if (request.DataSource.Length > 0 && !spec.Sources.ContainsKey(request.DataSource)) continue;
            response.FeatureViews.Add(new AnyFeatureView { OnDemandFeatureView = view });
        }
        return response;
    }

    // ---- feature services, features ----

    /// <inheritdoc/>
    public override async Task<Feast.Core.FeatureService> GetFeatureService(GetFeatureServiceRequest request, ServerCallContext context)
        => Find((await ReadAsync(request.Project, context)).FeatureServices, request.Name, "feature service", _project);

    /// <inheritdoc/>
    public override async Task<ListFeatureServicesResponse> ListFeatureServices(ListFeatureServicesRequest request, ServerCallContext context)
    {
        var response = new ListFeatureServicesResponse();
        foreach (var service in (await ReadAsync(request.Project, context)).Registry.FeatureServices)
            if (HasTags(service.Spec.Tags, request.Tags) &&
                (request.FeatureView.Length == 0 || service.Spec.Features.Any(p => p.FeatureViewName == request.FeatureView)))
                response.FeatureServices.Add(service);
        return response;
    }

    /// <inheritdoc/>
    public override async Task<ListFeaturesResponse> ListFeatures(ListFeaturesRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync(request.Project, context);
        var response = new ListFeaturesResponse();
        if (request.Kind.Length > 0 && request.Kind != "feature") return response; // Granary has no labels
        foreach (var feature in Features(feast))
            if ((request.FeatureView.Length == 0 || feature.FeatureView == request.FeatureView) && (request.Name.Length == 0 || feature.Name == request.Name))
                response.Features.Add(feature);
        return response;
    }

    /// <inheritdoc/>
    public override async Task<Feature> GetFeature(GetFeatureRequest request, ServerCallContext context)
    {
        var feast = await ReadAsync(request.Project, context);
        return Features(feast).FirstOrDefault(f => f.FeatureView == request.FeatureView && f.Name == request.Name)
            ?? throw new GatewayNotFoundException($"feature '{GatewayErrors.Echo(request.FeatureView)}:{GatewayErrors.Echo(request.Name)}' does not exist in project '{_project}'",
                "list them with ListFeatures");
    }

    private static IEnumerable<Feature> Features(FeastRegistry feast)
    {
        var updated = feast.Registry.LastUpdated;
        foreach (var view in feast.Registry.FeatureViews)
            foreach (var field in view.Spec.Features)
                yield return ToFeature(view.Spec.Name, field, view.Spec.Owner, updated);
        foreach (var view in feast.Registry.OnDemandFeatureViews)
            foreach (var field in view.Spec.Features)
                yield return ToFeature(view.Spec.Name, field, view.Spec.Owner, updated);
    }

    private static Feature ToFeature(string view, Feast.Core.FeatureSpecV2 field, string owner, Timestamp updated)
    {
        var feature = new Feature
        {
            Name = field.Name,
            FeatureView = view,
            Type = field.ValueType.ToString(),
            Description = field.Description,
            Owner = owner,
            LastUpdatedTimestamp = updated,
            Kind = "feature",
        };
        feature.Tags.Add(field.Tags);
        return feature;
    }

    // ---- permissions ----

    /// <inheritdoc/>
    public override async Task<ListPermissionsResponse> ListPermissions(ListPermissionsRequest request, ServerCallContext context)
    {
        var response = new ListPermissionsResponse();
        AddTagged(response.Permissions, (await ReadAsync(request.Project, context)).Registry.Permissions, p => p.Spec.Tags, request.Tags);
        return response;
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.Permission> GetPermission(GetPermissionRequest request, ServerCallContext context)
        => Find((await ReadAsync(request.Project, context)).Permissions, request.Name, "permission", _project);

    // ---- kinds Granary does not have: empty lists, NOT_FOUND on get ----

    /// <inheritdoc/>
    public override async Task<ListSavedDatasetsResponse> ListSavedDatasets(ListSavedDatasetsRequest request, ServerCallContext context)
    {
        await ReadAsync(request.Project, context);
        return new ListSavedDatasetsResponse();
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.SavedDataset> GetSavedDataset(GetSavedDatasetRequest request, ServerCallContext context)
        => Find(new Dictionary<string, Feast.Core.SavedDataset>(), request.Name, "saved dataset", (await ReadAsync(request.Project, context)).Snapshot.Project);

    /// <inheritdoc/>
    public override async Task<ListValidationReferencesResponse> ListValidationReferences(ListValidationReferencesRequest request, ServerCallContext context)
    {
        await ReadAsync(request.Project, context);
        return new ListValidationReferencesResponse();
    }

    /// <inheritdoc/>
    public override async Task<Feast.Core.ValidationReference> GetValidationReference(GetValidationReferenceRequest request, ServerCallContext context)
        => Find(new Dictionary<string, Feast.Core.ValidationReference>(), request.Name, "validation reference", (await ReadAsync(request.Project, context)).Snapshot.Project);

    /// <inheritdoc/>
    public override async Task<Feast.Core.Infra> GetInfra(GetInfraRequest request, ServerCallContext context)
        => (await ReadAsync(request.Project, context)).Registry.Infra;

    // ---- the whole registry ----

    /// <inheritdoc/>
    public override async Task<Feast.Core.Registry> Proto(Empty request, ServerCallContext context)
        => (await ReadAsync("", context)).Registry;

    /// <inheritdoc/>
    /// <remarks>The gateway's registry cache already follows every new version; refreshing only checks the project.</remarks>
    public override async Task<Empty> Refresh(RefreshRequest request, ServerCallContext context)
    {
        await ReadAsync(request.Project, context);
        return new Empty();
    }

    // ---- writes: definitions change through granary apply ----

    /// <inheritdoc/>
    public override Task<Empty> ApplyEntity(ApplyEntityRequest request, ServerCallContext context) => throw ReadOnly("ApplyEntity");
    /// <inheritdoc/>
    public override Task<Empty> DeleteEntity(DeleteEntityRequest request, ServerCallContext context) => throw ReadOnly("DeleteEntity");
    /// <inheritdoc/>
    public override Task<Empty> ApplyDataSource(ApplyDataSourceRequest request, ServerCallContext context) => throw ReadOnly("ApplyDataSource");
    /// <inheritdoc/>
    public override Task<Empty> DeleteDataSource(DeleteDataSourceRequest request, ServerCallContext context) => throw ReadOnly("DeleteDataSource");
    /// <inheritdoc/>
    public override Task<Empty> ApplyFeatureView(ApplyFeatureViewRequest request, ServerCallContext context) => throw ReadOnly("ApplyFeatureView");
    /// <inheritdoc/>
    public override Task<Empty> DeleteFeatureView(DeleteFeatureViewRequest request, ServerCallContext context) => throw ReadOnly("DeleteFeatureView");
    /// <inheritdoc/>
    public override Task<Empty> ApplyFeatureService(ApplyFeatureServiceRequest request, ServerCallContext context) => throw ReadOnly("ApplyFeatureService");
    /// <inheritdoc/>
    public override Task<Empty> DeleteFeatureService(DeleteFeatureServiceRequest request, ServerCallContext context) => throw ReadOnly("DeleteFeatureService");
    /// <inheritdoc/>
    public override Task<Empty> ApplySavedDataset(ApplySavedDatasetRequest request, ServerCallContext context) => throw ReadOnly("ApplySavedDataset");
    /// <inheritdoc/>
    public override Task<Empty> DeleteSavedDataset(DeleteSavedDatasetRequest request, ServerCallContext context) => throw ReadOnly("DeleteSavedDataset");
    /// <inheritdoc/>
    public override Task<Empty> ApplyValidationReference(ApplyValidationReferenceRequest request, ServerCallContext context) => throw ReadOnly("ApplyValidationReference");
    /// <inheritdoc/>
    public override Task<Empty> DeleteValidationReference(DeleteValidationReferenceRequest request, ServerCallContext context) => throw ReadOnly("DeleteValidationReference");
    /// <inheritdoc/>
    public override Task<Empty> ApplyPermission(ApplyPermissionRequest request, ServerCallContext context) => throw ReadOnly("ApplyPermission");
    /// <inheritdoc/>
    public override Task<Empty> DeletePermission(DeletePermissionRequest request, ServerCallContext context) => throw ReadOnly("DeletePermission");
    /// <inheritdoc/>
    public override Task<Empty> ApplyProject(ApplyProjectRequest request, ServerCallContext context) => throw ReadOnly("ApplyProject");
    /// <inheritdoc/>
    public override Task<Empty> DeleteProject(DeleteProjectRequest request, ServerCallContext context) => throw ReadOnly("DeleteProject");
    /// <inheritdoc/>
    public override Task<Empty> ApplyMaterialization(ApplyMaterializationRequest request, ServerCallContext context) => throw ReadOnly("ApplyMaterialization");
    /// <inheritdoc/>
    public override Task<Empty> UpdateInfra(UpdateInfraRequest request, ServerCallContext context) => throw ReadOnly("UpdateInfra");
    /// <inheritdoc/>
    public override Task<Empty> Commit(Empty request, ServerCallContext context) => throw ReadOnly("Commit");

    // ---- operations Granary does not serve here ----

    /// <inheritdoc/>
    public override Task<CreateDatasetFromRetrievalResponse> CreateDatasetFromRetrieval(CreateDatasetFromRetrievalRequest request, ServerCallContext context)
        => throw NotServed("CreateDatasetFromRetrieval", "creating saved datasets");
    /// <inheritdoc/>
    public override Task<GetDatasetDataResponse> GetDatasetData(GetDatasetDataRequest request, ServerCallContext context)
        => throw NotServed("GetDatasetData", "reading saved datasets");
    /// <inheritdoc/>
    public override Task<GetDatasetJobStatusResponse> GetDatasetJobStatus(GetDatasetJobStatusRequest request, ServerCallContext context)
        => throw NotServed("GetDatasetJobStatus", "saved-dataset jobs");
    /// <inheritdoc/>
    public override Task<ListDatasetJobsResponse> ListDatasetJobs(ListDatasetJobsRequest request, ServerCallContext context)
        => throw NotServed("ListDatasetJobs", "saved-dataset jobs");
    /// <inheritdoc/>
    public override Task<GetRegistryLineageResponse> GetRegistryLineage(GetRegistryLineageRequest request, ServerCallContext context)
        => throw NotServed("GetRegistryLineage", "registry lineage");
    /// <inheritdoc/>
    public override Task<GetObjectRelationshipsResponse> GetObjectRelationships(GetObjectRelationshipsRequest request, ServerCallContext context)
        => throw NotServed("GetObjectRelationships", "registry lineage");
}
