using Feast.Serving;
using Feast.Types;
using Google.Protobuf.WellKnownTypes;
using Granary.Gateway.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Value = Feast.Types.Value;
using FeastValueType = Feast.Types.ValueType;

namespace Granary.Gateway.Tests;

/// <summary>
/// Both gRPC services through Grpc.Net.Client over HTTP/2 cleartext against the real gateway: Feast's wire format (values
/// in the oneof member of the view's schema type, FieldStatus, Timestamps), errors as gRPC statuses, deadlines, the
/// standard health service and server reflection.
/// </summary>
public sealed class GrpcTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    private ServingService.ServingServiceClient Feast => new(server.Channel);
    private V1.Granary.GranaryClient Granary => new(server.Channel);

    [Fact]
    public async Task GetFeastServingInfo_reports_a_version()
    {
        var info = await Feast.GetFeastServingInfoAsync(new GetFeastServingInfoRequest());
        Assert.StartsWith("granary-", info.Version);
    }

    [Fact]
    public async Task GetOnlineFeatures_answers_typed_values_statuses_and_timestamps_column_by_column()
    {
        var response = await Feast.GetOnlineFeaturesAsync(Request(["driver_stats:conv_rate", "driver_stats:trips", "driver_stats:rating"], 1, 3));
        Assert.Equal(["driver_id", "conv_rate", "trips", "rating"], response.Metadata.FeatureNames.Val);
        Assert.Equal(4, response.Results.Count);

        var keys = response.Results[0];
        Assert.Equal([1L, 3L], keys.Values.Select(v => v.Int64Val));
        Assert.All(keys.Statuses, s => Assert.Equal(FieldStatus.Present, s));
        Assert.All(keys.EventTimestamps, t => Assert.Equal(0, t.Seconds));

        var rates = response.Results[1];
        Assert.Equal(Value.ValOneofCase.DoubleVal, rates.Values[0].ValCase);
        Assert.Equal(0.5, rates.Values[0].DoubleVal);
        Assert.Equal(Value.ValOneofCase.None, rates.Values[1].ValCase);
        Assert.Equal([FieldStatus.Present, FieldStatus.NotFound], rates.Statuses);
        Assert.Equal(Timestamp.FromDateTimeOffset(new DateTimeOffset(2024, 1, 2, 10, 0, 0, TimeSpan.Zero)), rates.EventTimestamps[0]);
        Assert.Equal(new Timestamp(), rates.EventTimestamps[1]);

        Assert.Equal(Value.ValOneofCase.Int64Val, response.Results[2].Values[0].ValCase);
        Assert.Equal(20, response.Results[2].Values[0].Int64Val);
        Assert.Equal(Value.ValOneofCase.FloatVal, response.Results[3].Values[0].ValCase);
        Assert.Equal(4.5f, response.Results[3].Values[0].FloatVal);
    }

    [Fact]
    public async Task A_feature_service_and_full_feature_names_work_as_over_rest()
    {
        var request = new GetOnlineFeaturesRequest { FeatureService = "driver_service", FullFeatureNames = true };
        request.Entities["driver_id"] = Column(new Value { Int64Val = 2 });
        var response = await Feast.GetOnlineFeaturesAsync(request);
        Assert.Equal(["driver_id", "driver_stats__conv_rate", "driver_stats__trips"], response.Metadata.FeatureNames.Val);
        Assert.Equal(0.25, response.Results[1].Values[0].DoubleVal);
    }

    [Fact]
    public async Task An_int32_value_for_an_Int64_key_is_taken_but_a_string_is_INVALID_ARGUMENT_naming_column_and_row()
    {
        var widened = Request(["driver_stats:trips"]);
        widened.Entities["driver_id"] = Column(new Value { Int32Val = 1 });
        Assert.Equal(20, (await Feast.GetOnlineFeaturesAsync(widened)).Results[1].Values[0].Int64Val);

        var bad = Request(["driver_stats:trips"]);
        bad.Entities["driver_id"] = Column(new Value { Int64Val = 1 }, new Value { StringVal = "2" });
        var error = await Assert.ThrowsAsync<RpcException>(() => Feast.GetOnlineFeaturesAsync(bad).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("entities.driver_id[1] is StringVal", error.Status.Detail);
        Assert.Contains("declared Int64", error.Status.Detail);
    }

    [Fact]
    public async Task Unknown_views_are_NOT_FOUND_and_missing_features_INVALID_ARGUMENT()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Feast.GetOnlineFeaturesAsync(Request(["nope:x"], 1)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("feature view 'nope' is not in the registry", error.Status.Detail);

        var empty = new GetOnlineFeaturesRequest();
        empty.Entities["driver_id"] = Column(new Value { Int64Val = 1 });
        error = await Assert.ThrowsAsync<RpcException>(() => Feast.GetOnlineFeaturesAsync(empty).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("neither 'features' nor 'feature_service'", error.Status.Detail);
    }

    [Fact]
    public async Task A_deadline_that_passes_ends_the_call_DEADLINE_EXCEEDED()
    {
        // The gateway follows the 60,000-entity run; the deadline ends the stream long before the run ends.
        await Granary.MaterializeAsync(new MaterializeRequest
        {
            FeatureViews = { "big_stats" },
            Start = Timestamp.FromDateTimeOffset(GatewayServer.Day),
            End = Timestamp.FromDateTimeOffset(GatewayServer.Day.AddDays(1)),
        });
        using var watch = Granary.WatchMaterialization(new MaterializationStatusRequest { FeatureViews = { "big_stats" } }, deadline: DateTime.UtcNow.AddMilliseconds(300));
        var error = await Assert.ThrowsAsync<RpcException>(async () => { while (await watch.ResponseStream.MoveNext(CancellationToken.None)) { } });
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);

        error = await Assert.ThrowsAsync<RpcException>(() => Feast.GetOnlineFeaturesAsync(Request(["driver_stats:trips"], 1), deadline: DateTime.UtcNow.AddTicks(1)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Granarys_service_lists_the_registry_and_reads_online_features()
    {
        var listing = await Granary.ListRegistryAsync(new ListRegistryRequest());
        Assert.Equal(server.Project, listing.Project);
        Assert.Equal(1, listing.Version);
        Assert.Equal(["driver", "city"], listing.Entities.Select(e => e.Name));
        Assert.Equal(FeastValueType.Types.Enum.String, listing.Entities[1].ValueType);
        var driverStats = listing.FeatureViews.Single(v => v.Name == "driver_stats");
        Assert.Equal(["conv_rate", "trips", "rating"], driverStats.Features.Select(f => f.Name));
        Assert.Equal(FeastValueType.Types.Enum.Double, driverStats.Features[0].ValueType);
        Assert.Equal(["driver_stats:conv_rate", "driver_stats:trips"], listing.FeatureServices.Single().Features);
        Assert.Equal("file", listing.DataSources[0].Kind);

        var response = await Granary.GetOnlineFeaturesAsync(Request(["driver_stats:conv_rate"], 2));
        Assert.Equal(0.25, response.Results[1].Values[0].DoubleVal);
    }

    [Fact]
    public async Task Materialize_starts_a_run_that_the_status_stream_follows_to_success()
    {
        var started = await Granary.MaterializeAsync(new MaterializeRequest
        {
            FeatureViews = { "late_stats" },
            Start = Timestamp.FromDateTimeOffset(GatewayServer.Day),
            End = Timestamp.FromDateTimeOffset(GatewayServer.Day.AddDays(3)),
        });
        Assert.Equal("late_stats", Assert.Single(started.Runs).FeatureView);

        using var watch = Granary.WatchMaterialization(new MaterializationStatusRequest { FeatureViews = { "late_stats" } }, deadline: DateTime.UtcNow.AddMinutes(2));
        MaterializationStatusList? last = null;
        while (await watch.ResponseStream.MoveNext(CancellationToken.None)) last = watch.ResponseStream.Current;
        var run = Assert.Single(last!.Runs);
        Assert.Equal(V1.MaterializationStatus.Types.State.Succeeded, run.State);
        Assert.Equal(2, run.RowsWritten);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => Granary.GetMaterializationStatusAsync(new MaterializationStatusRequest { FeatureViews = { "nope" } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task The_standard_health_service_answers_SERVING_for_the_server_and_each_service()
    {
        var health = new Health.HealthClient(server.Channel);
        foreach (var service in new[] { "", "feast.serving.ServingService", "granary.gateway.v1.Granary" })
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = service })).Status);
    }

    [Fact]
    public async Task Server_reflection_lists_both_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("feast.serving.ServingService", names);
        Assert.Contains("granary.gateway.v1.Granary", names);
        Assert.Contains("grpc.health.v1.Health", names);
    }

    private static GetOnlineFeaturesRequest Request(string[] features, params long[] drivers)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { features } } };
        if (drivers.Length > 0) request.Entities["driver_id"] = Column(drivers.Select(d => new Value { Int64Val = d }).ToArray());
        return request;
    }

    private static RepeatedValue Column(params Value[] values) => new() { Val = { values } };
}
