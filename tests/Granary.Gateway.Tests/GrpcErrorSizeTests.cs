using Feast.Serving;
using Feast.Types;
using Granary.Gateway.V1;
using Grpc.Core;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests;

/// <summary>
/// An error that echoes a huge user value (a 70,000-character view name) is answered promptly with a bounded message,
/// and the HTTP/2 connection it travelled on keeps answering other calls.
/// </summary>
public sealed class GrpcErrorSizeTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(15);

    [Fact]
    public async Task A_70000_character_view_name_is_NOT_FOUND_with_a_bounded_message_and_the_channel_keeps_answering()
    {
        var granary = new V1.Granary.GranaryClient(server.Channel);
        var feast = new ServingService.ServingServiceClient(server.Channel);
        var name = new string('v', 70_000);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            granary.GetMaterializationStatusAsync(new MaterializationStatusRequest { FeatureViews = { name } }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.InRange(error.Status.Detail.Length, 1, GatewayError.MaxMessageLength);
        Assert.StartsWith("feature_views[0] 'vvvv", error.Status.Detail);
        Assert.Contains("...[70000 characters]'", error.Status.Detail); // the value is cut, and says how long it was

        // The same channel (one HTTP/2 connection) still answers, errors and reads alike.
        var again = await Assert.ThrowsAsync<RpcException>(() =>
            granary.GetMaterializationStatusAsync(new MaterializationStatusRequest { FeatureViews = { "nope" } }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:trips" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var response = await feast.GetOnlineFeaturesAsync(request, deadline: Deadline);
        Assert.Equal(20, response.Results[1].Values[0].Int64Val);
    }
}
