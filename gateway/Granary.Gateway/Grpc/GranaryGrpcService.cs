using Microsoft.Extensions.DependencyInjection;
using Granary.Gateway.Security;
using Granary.Core.Security;
using Feast.Serving;
using Google.Protobuf.WellKnownTypes;
using Granary.Contracts;
using Granary.Definitions;
using Granary.Gateway.V1;
using Granary.Grains.Online;
using Grpc.Core;
using MaterializationStatus = Granary.Grains.Online.MaterializationStatus;
using ProtoStatus = Granary.Gateway.V1.MaterializationStatus;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Granary's own gRPC service (<c>granary.gateway.v1.Granary</c>): online reads, materialization with status and a
/// progress stream, the registry listing; <c>Push</c> is in Push/ (needs the push grain).
/// </summary>
[BindServiceMethod(typeof(GranaryGrpcService), nameof(BindService))]
public sealed partial class GranaryGrpcService(OnlineFeatureQueries queries, MaterializationRuns runs, IGrainFactory grains) : V1.Granary.GranaryBase
{
    /// <summary>The generated binding less <c>GetOnlineFeatures</c>, which <see cref="DirectOnlineMethods"/> binds to <see cref="GetOnlineAnswer"/>.</summary>
    public static void BindService(ServiceBinderBase binder, V1.Granary.GranaryBase? service)
        => V1.Granary.BindService(new OnlineResponseBinder(binder), service);

    private readonly IGrainFactory _grains = grains;

    /// <inheritdoc/>
    /// <remarks>Not what the endpoint calls (that is <see cref="GetOnlineAnswer"/>); the same answer as a message, for in-process callers.</remarks>
    public override Task<GetOnlineFeaturesResponse> GetOnlineFeatures(GetOnlineFeaturesRequest request, ServerCallContext context)
        => FeastServingGrpcService.ReadAsync(queries, request, context.GetHttpContext(), context.CancellationToken);

    /// <summary>What <c>/granary.gateway.v1.Granary/GetOnlineFeatures</c> answers: the read, written to the wire directly.</summary>
    internal Task<OnlineAnswer> GetOnlineAnswer(GetOnlineFeaturesRequest request, ServerCallContext context)
        => FeastServingGrpcService.ReadAnswerAsync(queries, request, context.GetHttpContext(), context.CancellationToken);

    /// <inheritdoc/>
    public override async Task<MaterializationStatusList> Materialize(MaterializeRequest request, ServerCallContext context)
    {
        if (request.Start is null) throw new GatewayRequestException("'start' is not set", "set start and end (google.protobuf.Timestamp)");
        if (request.End is null) throw new GatewayRequestException("'end' is not set", "set start and end (google.protobuf.Timestamp)");
        var views = await runs.ChooseAsync(request.FeatureViews, "feature_views");
        await Authorization(context).RequireEachAsync(context.GetHttpContext(), PermissionAction.WriteOnline, PermissionRules.FeatureView, views);
        return ToProto(await runs.StartAsync(views, RequestTimes.FromTimestamp(request.Start, "start"), RequestTimes.FromTimestamp(request.End, "end")));
    }

    /// <inheritdoc/>
    public override async Task<MaterializationStatusList> MaterializeIncremental(MaterializeIncrementalRequest request, ServerCallContext context)
    {
        if (request.End is null) throw new GatewayRequestException("'end' is not set", "set end (google.protobuf.Timestamp)");
        var views = await runs.ChooseAsync(request.FeatureViews, "feature_views");
        await Authorization(context).RequireEachAsync(context.GetHttpContext(), PermissionAction.WriteOnline, PermissionRules.FeatureView, views);
        return ToProto(await runs.StartAsync(views, start: null, RequestTimes.FromTimestamp(request.End, "end")));
    }

    /// <inheritdoc/>
    public override async Task<MaterializationStatusList> GetMaterializationStatus(MaterializationStatusRequest request, ServerCallContext context)
    {
        var views = await runs.ChooseAsync(request.FeatureViews, "feature_views");
        await Authorization(context).RequireEachAsync(context.GetHttpContext(), PermissionAction.Describe, PermissionRules.FeatureView, views);
        return ToProto(await runs.StatusAsync(views));
    }

    /// <inheritdoc/>
    public override async Task WatchMaterialization(MaterializationStatusRequest request, IServerStreamWriter<MaterializationStatusList> responseStream, ServerCallContext context)
    {
        var views = await runs.ChooseAsync(request.FeatureViews, "feature_views");
        await Authorization(context).RequireEachAsync(context.GetHttpContext(), PermissionAction.Describe, PermissionRules.FeatureView, views);
        await runs.WaitAsync(views, statuses => responseStream.WriteAsync(ToProto(statuses), context.CancellationToken), context.CancellationToken);
    }

    /// <inheritdoc/>
    public override async Task<RegistryListing> ListRegistry(ListRegistryRequest request, ServerCallContext context)
    {
        var snapshot = await queries.SnapshotAsync();
        snapshot = Authorization(context).Describable(context.GetHttpContext(), snapshot);
        var listing = new RegistryListing { Project = snapshot.Project, Version = snapshot.Version, CreatedAt = Timestamp.FromDateTimeOffset(snapshot.CreatedAt) };
        foreach (var e in snapshot.Entities)
            listing.Entities.Add(new EntityInfo { Name = e.Name, JoinKey = e.JoinKey, ValueType = FeastValues.TypeEnum(e.ValueType), Description = e.Description ?? "" });
        foreach (var v in snapshot.FeatureViews)
        {
            var info = new FeatureViewInfo { Name = v.Name, Source = v.Source, Online = v.Online, Description = v.Description ?? "" };
            if (v.Ttl is { } ttl) info.Ttl = Duration.FromTimeSpan(ttl);
            info.Entities.AddRange(v.Entities);
            info.Features.AddRange(v.Features.Select(Field));
            listing.FeatureViews.Add(info);
        }
        foreach (var v in snapshot.OnDemandFeatureViews)
        {
            var info = new OnDemandFeatureViewInfo { Name = v.Name };
            info.Sources.AddRange(v.Sources);
            info.Features.AddRange(v.Features.Select(Field));
            listing.OnDemandFeatureViews.Add(info);
        }
        foreach (var s in snapshot.FeatureServices)
        {
            var info = new FeatureServiceInfo { Name = s.Name };
            foreach (var p in s.Projections)
                info.Features.AddRange(p.Features.Count == 0 ? [$"{p.View}:*"] : p.Features.Select(f => $"{p.View}:{f}"));
            listing.FeatureServices.Add(info);
        }
        foreach (var d in snapshot.DataSources)
        {
            var kind = d switch { FileSource => "file", PostgresSource => "postgres", PushSource => "push", RequestSource => "request", _ => d.GetType().Name };
            var info = new DataSourceInfo
            {
                Name = d.Name, Kind = kind, BatchSource = (d as PushSource)?.BatchSource ?? "", TimestampField = d.TimestampField,
                CreatedTimestampField = d.CreatedTimestampField ?? "",
            };
            foreach (var (stored, mapped) in d.FieldMapping) info.FieldMapping[stored] = mapped;
            if (d is RequestSource requestSource) info.Schema.AddRange(requestSource.Schema.Select(Field));
            listing.DataSources.Add(info);
        }
        return listing;
    }

    private static GatewayAuthorization Authorization(ServerCallContext context) => context.GetHttpContext().RequestServices.GetRequiredService<GatewayAuthorization>();

    private static FieldInfo Field(Granary.Definitions.Field f) => new() { Name = f.Name, ValueType = FeastValues.TypeEnum(f.Type) };

    private static MaterializationStatusList ToProto(IReadOnlyList<MaterializationStatus> statuses)
    {
        var list = new MaterializationStatusList();
        foreach (var s in statuses)
        {
            var proto = new ProtoStatus
            {
                FeatureView = s.View,
                State = s.State switch
                {
                    MaterializationRunState.Running => ProtoStatus.Types.State.Running,
                    MaterializationRunState.Succeeded => ProtoStatus.Types.State.Succeeded,
                    MaterializationRunState.Failed => ProtoStatus.Types.State.Failed,
                    _ => ProtoStatus.Types.State.Idle,
                },
                Start = Timestamp.FromDateTimeOffset(s.Start),
                End = Timestamp.FromDateTimeOffset(s.End),
                Partitions = s.Partitions,
                PartitionsDone = s.PartitionsDone,
                RowsWritten = s.RowsWritten,
                Error = s.Error ?? "",
            };
            if (s.StartedAt is { } started) proto.StartedAt = Timestamp.FromDateTimeOffset(started);
            if (s.FinishedAt is { } finished) proto.FinishedAt = Timestamp.FromDateTimeOffset(finished);
            list.Runs.Add(proto);
        }
        return list;
    }
}
