using System.Net;
using System.Text;
using System.Text.Json;
using Feast.Serving;
using Feast.Types;
using Granary.Testing;
using Grpc.Core;

namespace Granary.Gateway.Tests;

/// <summary>The gateway over a Redis online store of its own (a redis-server this fixture starts, kills or stalls).</summary>
public class RedisGatewayServer : GatewayServer
{
    /// <summary>The fixture's own redis-server.</summary>
    protected RedisServerProcess Redis { get; } = new(durable: false);

    protected override string OnlineStoreYaml => Redis.OnlineStoreYaml;

    protected override Task StartServersAsync() => Redis.StartAsync();

    /// <summary>Kills the online store (SIGKILL).</summary>
    public Task KillRedisAsync() => Redis.KillAsync();

    /// <summary>Stops the online store where it stands (SIGSTOP): connections stay open, nothing answers.</summary>
    public Task StallRedisAsync() => Redis.PauseAsync();

    /// <summary>Lets a stalled online store go on (SIGCONT).</summary>
    public Task ResumeRedisAsync() => Redis.ResumeAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>With the online store down, health is 503 and reads that need the store answer 503 / UNAVAILABLE, not 500.</summary>
public sealed class UnavailableStoreTests(RedisGatewayServer server) : IClassFixture<RedisGatewayServer>
{
    [Fact]
    public async Task With_the_online_store_killed_health_is_503_and_uncached_reads_are_503_and_UNAVAILABLE()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health")).StatusCode);

        await server.KillRedisAsync();

        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using (var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync()))
        {
            Assert.Equal("unhealthy", json.RootElement.GetProperty("status").GetString());
            Assert.Contains("online store unreachable", json.RootElement.GetProperty("checks").GetProperty("granary").GetProperty("detail").GetString());
        }

        // Driver 2 was never read here, so its entity grain holds nothing and must ask the store.
        using var read = await server.Http.SendAsync(StrictRequest.Post("/get-online-features", """{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[2]}}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        using (var json = JsonDocument.Parse(await read.Content.ReadAsStringAsync()))
            Assert.Equal("OnlineStoreUnavailableException", json.RootElement.GetProperty("class").GetString());

        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:trips" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var error = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);

        // A push with the store down: the typed error with its reason (503 / UNAVAILABLE), not the driver's exception type.
        using var push = await server.Http.SendAsync(StrictRequest.Post("/push",
            """{"push_source_name":"driver_push","df":{"driver_id":[7],"event_timestamp":["2024-01-03T00:00:00Z"],"speed":[1.5],"event_id":["down-1"]},"to":"online"}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, push.StatusCode);
        using (var json = JsonDocument.Parse(await push.Content.ReadAsStringAsync()))
            Assert.Equal("OnlineStoreUnavailableException", json.RootElement.GetProperty("class").GetString());
        var grpcPush = new Granary.Gateway.V1.PushRequest { PushSourceName = "driver_push", To = "online" };
        grpcPush.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 7 } } };
        grpcPush.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { StringVal = "2024-01-03T00:00:00Z" } } };
        grpcPush.Columns["speed"] = new RepeatedValue { Val = { new Value { DoubleVal = 1.5 } } };
        grpcPush.Columns["event_id"] = new RepeatedValue { Val = { new Value { StringVal = "down-2" } } };
        var pushError = await Assert.ThrowsAsync<RpcException>(() => new Granary.Gateway.V1.Granary.GranaryClient(server.Channel).PushAsync(grpcPush).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, pushError.StatusCode);
        Assert.Contains("could not claim", pushError.Status.Detail);
    }
}

/// <summary>Cluster failures the gateway meets as an Orleans client map to 503 / UNAVAILABLE, never 500.</summary>
public sealed class ClusterErrorMappingTests
{
    [Fact]
    public void Orleans_connection_and_silo_failures_are_503_and_UNAVAILABLE()
    {
        foreach (var error in new Exception[]
                 {
                     new Orleans.Runtime.Messaging.ConnectionFailedException("Unable to connect to S127.0.0.1:42791:0"),
                     new Orleans.Runtime.SiloUnavailableException("silo gone"),
                     new TimeoutException("response did not arrive on time"),
                 })
        {
            var mapped = GatewayErrors.From(error);
            Assert.Equal(503, mapped.HttpStatus);
            Assert.Equal(StatusCode.Unavailable, mapped.GrpcStatus);
            Assert.Contains("the feature store cluster is unavailable", mapped.Message);
        }
    }
}
