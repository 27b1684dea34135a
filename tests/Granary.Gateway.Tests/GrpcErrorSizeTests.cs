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

/// <summary>The bounds on error messages and the per-call limit's setting, without a server.</summary>
public sealed class GatewayLimitsTests
{
    [Fact]
    public void A_long_value_is_cut_with_its_length_and_a_whole_message_to_the_maximum()
    {
        Assert.Equal("short", GatewayErrors.Echo("short"));
        var echoed = GatewayErrors.Echo(new string('x', 70_000));
        Assert.Equal(GatewayErrors.MaxEchoLength, echoed.Length);
        Assert.EndsWith("...[70000 characters]", echoed);
        // A surrogate pair at the cut is dropped whole, never halved.
        var emoji = GatewayErrors.Bound(new string('a', 180) + "🚀" + new string('b', 100), GatewayErrors.MaxEchoLength);
        Assert.DoesNotContain('\uD83D', emoji);

        var error = new GatewayError(400, StatusCode.InvalidArgument, "X", new string('m', 100_000), new string('h', 100_000));
        Assert.Equal(GatewayError.MaxMessageLength, error.Message.Length);
        Assert.Equal(GatewayError.MaxMessageLength, error.Hint!.Length);
        Assert.True(error.ToRpcException().Status.Detail.Length < 8 * 1024);
        Assert.Equal(GatewayError.MaxMessageLength, (error with { Message = new string('m', 100_000) }).Message.Length);
    }

    [Fact]
    public void The_per_call_limit_defaults_to_30_s_and_must_be_positive()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), new GatewayOptions().RequestTimeout);
        Assert.Equal(["Granary:Gateway:RequestTimeout is 00:00:00; give a positive duration such as 00:00:30 (the default)"],
            new GatewayOptionsValidator().Validate(null, new GatewayOptions { Project = "p", RequestTimeout = TimeSpan.Zero }).Failures ?? []);
    }
}
