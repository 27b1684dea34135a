using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Granary.Gateway.Security;
using Granary.Core.Security;
using System.Reflection;
using Feast.Serving;
using Google.Protobuf.Collections;
using Grpc.Core;

namespace Granary.Gateway.Grpc;

/// <summary>Feast's <c>feast.serving.ServingService</c>: what Feast's gRPC clients call, on Feast's wire format.</summary>
[BindServiceMethod(typeof(FeastServingGrpcService), nameof(BindService))]
public sealed class FeastServingGrpcService(OnlineFeatureQueries queries) : ServingService.ServingServiceBase
{
    /// <summary>The generated binding less <c>GetOnlineFeatures</c>, which <see cref="DirectOnlineMethods"/> binds to <see cref="GetOnlineAnswer"/>.</summary>
    public static void BindService(ServiceBinderBase binder, ServingService.ServingServiceBase? service)
        => ServingService.BindService(new OnlineResponseBinder(binder), service);

    /// <summary>The version this gateway reports (Granary's assembly version).</summary>
    public static string Version { get; } = "granary-" + (typeof(FeastServingGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0");

    /// <inheritdoc/>
    public override Task<GetFeastServingInfoResponse> GetFeastServingInfo(GetFeastServingInfoRequest request, ServerCallContext context)
        => Task.FromResult(new GetFeastServingInfoResponse { Version = Version });

    /// <inheritdoc/>
    /// <remarks>Not what the endpoint calls (that is <see cref="GetOnlineAnswer"/>); the same answer as a message, for in-process callers.</remarks>
    public override Task<GetOnlineFeaturesResponse> GetOnlineFeatures(GetOnlineFeaturesRequest request, ServerCallContext context)
        => ReadAsync(queries, request, context.GetHttpContext(), context.CancellationToken);

    /// <summary>What <c>/feast.serving.ServingService/GetOnlineFeatures</c> answers: the read, written to the wire directly.</summary>
    internal Task<OnlineAnswer> GetOnlineAnswer(GetOnlineFeaturesRequest request, ServerCallContext context)
        => ReadAnswerAsync(queries, request, context.GetHttpContext(), context.CancellationToken);

    /// <summary>The online read both gRPC services answer, as a generated message.</summary>
    public static async Task<GetOnlineFeaturesResponse> ReadAsync(OnlineFeatureQueries queries, GetOnlineFeaturesRequest request, HttpContext http, CancellationToken cancellationToken)
        => (await ReadAnswerAsync(queries, request, http, cancellationToken)).ToMessage();

    /// <summary>The online read both gRPC services answer: entity and request-context columns typed by the registry, values typed by the view's schema.</summary>
    internal static async Task<OnlineAnswer> ReadAnswerAsync(OnlineFeatureQueries queries, GetOnlineFeaturesRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var snapshot = await queries.SnapshotAsync();
        var service = request.KindCase == GetOnlineFeaturesRequest.KindOneofCase.FeatureService ? request.FeatureService : null;
        var plan = queries.Plan(snapshot, request.KindCase == GetOnlineFeaturesRequest.KindOneofCase.Features ? request.Features.Val : null, service, request.FullFeatureNames);
        http.RequestServices.GetRequiredService<GatewayAuthorization>().RequireRead(http, snapshot, plan, service, PermissionAction.ReadOnline);
        var masks = http.RequestServices.GetRequiredService<PiiMaskingPolicy>().ForRead(http, snapshot, plan);
        var columns = new Dictionary<string, IReadOnlyList<object?>>(StringComparer.Ordinal);
        AddColumns(columns, request.Entities, "entities", snapshot, plan);
        AddColumns(columns, request.RequestContext, "request_context", snapshot, plan);
        var response = await queries.ReadAsync(snapshot, plan, columns, cancellationToken);
        if (masks is not null) response = masks.Apply(response);
        return new OnlineAnswer(response, OnlineFeatureQueries.OutputTypes(snapshot, plan));
    }

    private static void AddColumns(Dictionary<string, IReadOnlyList<object?>> columns, MapField<string, Feast.Types.RepeatedValue> map, string field,
        Granary.Definitions.RegistrySnapshot snapshot, Granary.Offline.HistoricalRetrievalPlan plan)
    {
        foreach (var (name, values) in map)
        {
            var type = OnlineFeatureQueries.InputType(snapshot, plan, name, field);
            columns[name] = ProtoValues.ReadColumn(values, type, $"{field}.{name}");
        }
    }
}
