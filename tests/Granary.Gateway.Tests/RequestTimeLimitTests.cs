using System.Net;
using System.Text;
using System.Text.Json;
using Feast.Serving;
using Feast.Types;
using Granary.Testing;
using Grpc.Core;

namespace Granary.Gateway.Tests;

/// <summary>
/// The gateway over a Redis online store of its own that the test can stall (SIGSTOP): the store accepts commands and
/// never answers, and its client waits 60 s before it gives up, so only the gateway's own limit of 1 s per request can end a call (the entity grains give the store 2 s).
/// </summary>
public sealed class StalledRedisGatewayServer : RedisGatewayServer
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(1);

    protected override string OnlineStoreYaml => $"online_store:\n  type: redis\n  connection_string: {Redis.Endpoint},asyncTimeout=60000,syncTimeout=60000\n";

    protected override void ConfigureGateway(GatewayOptions o)
    {
        base.ConfigureGateway(o);
        o.RequestTimeout = Limit;
    }
}

/// <summary>A request stuck behind a stalled store ends at the gateway's limit with a clear status, on REST and gRPC alike.</summary>
public sealed class RequestTimeLimitTests(StalledRedisGatewayServer server) : IClassFixture<StalledRedisGatewayServer>
{
    [Fact]
    public async Task Requests_behind_a_stalled_store_end_at_the_gateways_limit_with_504_and_DEADLINE_EXCEEDED()
    {
        await server.StallRedisAsync();
        try
        {
            // Driver 5 was never read, so its entity grain must ask the store; a push must claim its event id there.
            using var read = await server.Http.SendAsync(StrictRequest.Post("/get-online-features", """{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[5]}}"""));
            await AssertTimedOutAsync(read, "POST /get-online-features");

            using var push = await server.Http.SendAsync(StrictRequest.Post("/push",
                """{"push_source_name":"driver_push","df":{"driver_id":[7],"event_timestamp":["2024-01-03T00:00:00Z"],"speed":[1.5],"event_id":["stalled-1"]},"to":"online"}"""));
            await AssertTimedOutAsync(push, "POST /push");

            // Feast's clients get Feast's error body with the same status.
            using var feast = await server.Http.PostAsync("/get-online-features",
                new StringContent("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[6]}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.GatewayTimeout, feast.StatusCode);
            Assert.Contains("Granary:Gateway:RequestTimeout", await feast.Content.ReadAsStringAsync());

            var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:trips" } } };
            request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 8 } } };
            // The client's own deadline is far beyond the gateway's limit: the status comes from the gateway.
            var error = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel)
                .GetOnlineFeaturesAsync(request, deadline: DateTime.UtcNow.AddSeconds(50)).ResponseAsync);
            Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
            Assert.Contains("Granary:Gateway:RequestTimeout", error.Status.Detail);
        }
        finally
        {
            await server.ResumeRedisAsync();
        }

        // Once the store answers again, so does the gateway.
        await Eventually.WaitUntil(async () =>
        {
            using var read = await server.Http.SendAsync(StrictRequest.Post("/get-online-features", """{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[9]}}"""));
            return read.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(60), "an online read to succeed after the store resumed");
    }

    private static async Task AssertTimedOutAsync(HttpResponseMessage response, string route)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.GatewayTimeout, $"{route}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("RequestTimeout", json.RootElement.GetProperty("class").GetString());
        Assert.Equal($"{route}: the gateway's limit of 1 s per request passed before it answered", json.RootElement.GetProperty("message").GetString());
    }
}
