using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Granary.Hosting;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Granary.Gateway.Tests;

/// <summary>
/// The gateway in cluster mode: an Orleans client (as granary-gateway runs it) of a silo whose online store is a
/// redis-server of this fixture's own. The gateway holds no store, so its health asks a silo to probe it.
/// </summary>
public sealed class ClusterGatewayServer : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("granary-cluster-gateway-").FullName;
    private readonly RedisProcess _redis = new();
    private EmbeddedFeatureStore? _silo;
    private WebApplication? _gateway;

    public HttpClient Http { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    /// <summary>The silo the gateway is a client of (tests apply definitions through it).</summary>
    public EmbeddedFeatureStore Silo => _silo!;
    public string Project { get; private set; } = "";
    public string Root => _root;
    public Task KillRedisAsync() => _redis.KillAsync();

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        var project = Project = "cg" + Guid.NewGuid().ToString("N")[..8];
        await File.WriteAllTextAsync(Path.Combine(_root, "granary.yaml"), $"project: {project}\n{_redis.OnlineStoreYaml}");
        // The embedded silo opens a gateway port, so a separate client can join it as granary-gateway joins a cluster.
        var gatewayPort = FreePort();
        _silo = await EmbeddedFeatureStore.StartAsync(_root, silo => silo.Configure<EndpointOptions>(o => o.GatewayPort = gatewayPort));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = _root, EnvironmentName = Environments.Production, Args = [] });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(gatewayPort, serviceId: "granary-embedded", clusterId: "granary-embedded");
            client.AddGranaryClient();
        });
        builder.Services.AddGranaryGateway(builder.Configuration, o =>
        {
            o.Project = project;
            o.RestPort = 0;
            o.GrpcPort = 0;
            o.WebPort = 0;
        });
        _gateway = builder.Build();
        _gateway.UseRouting();
        _gateway.MapGranaryGateway();
        await _gateway.StartAsync();
        var addresses = _gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        Http = new HttpClient { BaseAddress = new Uri(addresses[0]) };
        Channel = GrpcChannel.ForAddress(addresses[1]);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Http?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }
        if (_silo is not null) await _silo.DisposeAsync();
        await _redis.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
