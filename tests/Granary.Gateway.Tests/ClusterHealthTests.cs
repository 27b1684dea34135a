using System.Net;
using System.Text.Json;
using Granary.Cli;
using Granary.Hosting;
using Granary.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Orleans.Configuration;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Granary.Gateway.Tests;

/// <summary>
/// The gateway in cluster mode: an Orleans client (as granary-gateway runs it) of a silo whose online store is a
/// redis-server of this fixture's own. The gateway holds no store, so its health asks a silo to probe it.
/// </summary>
public sealed class ClusterGatewayServer : IAsyncLifetime
{
    private readonly TestRepository _repository = new("granary-cluster-gateway-");
    private readonly RedisServerProcess _redis = new(durable: false);
    private EmbeddedFeatureStore? _silo;
    private ClusterGateway? _gateway;

    public HttpClient Http { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    /// <summary>The silo the gateway is a client of (tests apply definitions through it).</summary>
    public EmbeddedFeatureStore Silo => _silo!;
    public string Project { get; private set; } = "";
    public string Root => _repository.Root;
    public Task KillRedisAsync() => _redis.KillAsync();

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        var project = Project = "cg" + Guid.NewGuid().ToString("N")[..8];
        await _repository.WriteGranaryYamlAsync(project, _redis.OnlineStoreYaml);
        // The embedded silo opens a gateway port, so a separate client can join it as granary-gateway joins a cluster.
        var gatewayPort = FreePorts.One();
        _silo = await EmbeddedFeatureStore.StartAsync(Root, silo => silo.Configure<EndpointOptions>(o => o.GatewayPort = gatewayPort));
        _gateway = await ClusterGateway.StartAsync(Root, gatewayPort, "granary-embedded", project, o =>
        {
            o.RestPort = 0;
            o.GrpcPort = 0;
            o.WebPort = 0;
        });
        Http = new HttpClient { BaseAddress = new Uri(_gateway.RestUrl) };
        Channel = GrpcChannel.ForAddress(_gateway.GrpcUrl);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Http?.Dispose();
        if (_gateway is not null) await _gateway.DisposeAsync();
        if (_silo is not null) await _silo.DisposeAsync();
        await _redis.DisposeAsync();
        _repository.Dispose();
    }
}

/// <summary>Cluster-mode health covers the online store: a silo probes it, and a dead store is 503 / NOT_SERVING naming it.</summary>
public sealed class ClusterHealthTests(ClusterGatewayServer server) : IClassFixture<ClusterGatewayServer>
{
    [Fact]
    public async Task Health_in_cluster_mode_follows_the_online_store_behind_the_silos()
    {
        var (status, detail) = await HealthAsync();
        Assert.True(status == HttpStatusCode.OK, detail);
        Assert.Contains("online store (probed by silo", detail);
        var grpc = new Health.HealthClient(server.Channel);
        Assert.Equal(ServingStatus.Serving, (await grpc.CheckAsync(new HealthCheckRequest { Service = "granary.gateway.v1.Granary" })).Status);

        await server.KillRedisAsync();

        (status, detail) = await HealthAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("online store unreachable (probed by silo", detail);
        Assert.Equal(ServingStatus.NotServing, (await grpc.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
    }

    private async Task<(HttpStatusCode Status, string Detail)> HealthAsync()
    {
        using var response = await server.Http.GetAsync("/health");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("checks").GetProperty("granary").GetProperty("detail").GetString() ?? "");
    }
}
