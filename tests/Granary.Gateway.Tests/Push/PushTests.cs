using System.Net;
using System.Text;
using System.Text.Json;
using Feast.Serving;
using Feast.Types;
using Granary.Gateway.V1;
using Grpc.Core;

namespace Granary.Gateway.Tests;

/// <summary>
/// Push through the gateway (needs the push grain; compiled with it): Feast's REST <c>/push</c> and
/// <c>/write-to-online-store</c> and gRPC <c>Granary/Push</c>, each row served right after, bad batches refused whole.
/// </summary>
public sealed class PushTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    [Fact]
    public async Task A_rest_push_is_200_and_the_row_is_served_at_once()
    {
        var (status, body) = await PostAsync("/push", """{"push_source_name":"driver_push","df":{"driver_id":[11],"event_timestamp":["2024-02-01T00:00:00Z"],"speed":[42.5]},"to":"online"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("", body);
        Assert.Equal(42.5, await SpeedAsync(11));
    }

    [Fact]
    public async Task Write_to_online_store_writes_through_the_views_push_source_and_answers_null()
    {
        var (status, body) = await PostAsync("/write-to-online-store", """{"feature_view_name":"pushed_stats","df":{"driver_id":[12],"event_timestamp":["2024-02-01T00:00:00Z"],"speed":[7.25]}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("null", body);
        Assert.Equal(7.25, await SpeedAsync(12));
    }

    [Theory]
    [InlineData("""{"push_source_name":"nope","df":{"driver_id":[1]}}""", 404, "push source 'nope' is not in the registry")]
    [InlineData("""{"push_source_name":"driver_push","df":{"driver_id":[1]},"to":"everywhere"}""", 400, "'to' 'everywhere' is not a push mode")]
    [InlineData("""{"push_source_name":"driver_push","df":{"driver_id":[1,2],"speed":[1.0]}}""", 400, "df.speed has 1 values but df.driver_id has 2")]
    [InlineData("""{"push_source_name":"driver_push"}""", 400, "the request has no 'df'")]
    [InlineData("""{"push_source_name":"driver_push","df":{"driver_id":["x"],"event_timestamp":["2024-02-01T00:00:00Z"],"speed":[1.0]}}""", 400, "push to 'driver_push' rejected")]
    public async Task Bad_pushes_are_refused_with_the_field_named(string body, int expected, string message)
    {
        var (status, text) = await PostAsync("/push", body, strict: true);
        Assert.Equal(expected, (int)status);
        using var json = JsonDocument.Parse(text);
        Assert.Contains(message, json.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_grpc_push_reports_what_was_stored()
    {
        var client = new V1.Granary.GranaryClient(server.Channel);
        var request = new V1.PushRequest { PushSourceName = "driver_push", To = "online" };
        request.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 13 } } };
        request.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { StringVal = "2024-02-01T00:00:00Z" } } };
        request.Columns["speed"] = new RepeatedValue { Val = { new Value { DoubleVal = 3.5 } } };
        var reply = await client.PushAsync(request);
        Assert.Equal(1, reply.RowsReceived);
        Assert.Equal(1, reply.RowsAccepted);
        Assert.Equal(3.5, await SpeedAsync(13));

        var unknown = new V1.PushRequest { PushSourceName = "nope" };
        unknown.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var error = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(unknown).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    private async Task<double> SpeedAsync(long driver)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "pushed_stats:speed" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = driver } } };
        var response = await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(request);
        Assert.Equal(FieldStatus.Present, response.Results[1].Statuses[0]);
        return response.Results[1].Values[0].DoubleVal;
    }

    // strict: Granary's own error object and column checks (FeastCompatibility.StrictHeader).
    private async Task<(HttpStatusCode, string)> PostAsync(string path, string body, bool strict = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (strict) request.Headers.Add("Granary-Strict", "true");
        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
