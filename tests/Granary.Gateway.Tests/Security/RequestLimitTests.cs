using System.Net;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Grpc.Core;

namespace Granary.Gateway.Tests.Security;

/// <summary>A gateway allowing each caller 1 request a second (bucket of 1): the smallest rate, so a second request soon after the first is over it.</summary>
public sealed class RateLimitedServer : GatewayServer
{
    protected override void ConfigureGateway(GatewayOptions o)
    {
        base.ConfigureGateway(o);
        o.Limits.RequestsPerSecond = 1;
        o.Limits.Burst = 1;
    }
}

/// <summary>
/// Per-principal rate limits on REST and gRPC (429 with Retry-After / RESOURCE_EXHAUSTED), /health never limited, and
/// request paths confined to the repository's data folder. Each limited call is sent until one is refused (at most 50):
/// a refusal proves the limit; which one is refused depends on the clock, so the test does not say.
/// </summary>
public sealed class RequestLimitTests(RateLimitedServer server) : IClassFixture<RateLimitedServer>
{
    private const int MaxTries = 50;
    private const string Read = """{"features":["driver_stats:trips"],"entities":{"driver_id":[1]}}""";

    [Fact]
    public async Task Rest_requests_over_the_rate_get_429_with_retry_after_naming_the_setting()
    {
        for (var i = 0; i < MaxTries; i++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var response = await server.Http.PostAsync("/get-online-features", new StringContent(Read, Encoding.UTF8, "application/json"), cancel.Token);
            if (response.StatusCode == HttpStatusCode.OK) continue;
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, response.Headers.ToString());
            var body = await response.Content.ReadAsStringAsync(cancel.Token);
            Assert.Contains("Granary:Gateway:Limits:RequestsPerSecond", body);
            Assert.Contains("address:127.0.0.1", body);
            return;
        }
        Assert.Fail($"{MaxTries} requests in a row were all allowed at 1 request per second");
    }

    [Fact]
    public async Task Grpc_calls_over_the_rate_get_resource_exhausted()
    {
        var feast = new ServingService.ServingServiceClient(server.Channel);
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:trips" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        for (var i = 0; i < MaxTries; i++)
        {
            try
            {
                await feast.GetOnlineFeaturesAsync(request, deadline: DateTime.UtcNow.AddSeconds(60));
            }
            catch (RpcException e)
            {
                Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
                Assert.Contains("rate limit exceeded", e.Status.Detail);
                Assert.Contains("Granary:Gateway:Limits:RequestsPerSecond", Uri.UnescapeDataString(e.Status.Detail));
                return;
            }
        }
        Assert.Fail($"{MaxTries} calls in a row were all allowed at 1 request per second");
    }

    [Fact]
    public async Task Health_is_never_rate_limited()
    {
        for (var i = 0; i < 10; i++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var response = await server.Http.GetAsync("/health", cancel.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
