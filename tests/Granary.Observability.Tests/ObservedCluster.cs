using Granary.Definitions;
using Granary.Gateway;
using Granary.Testing;
using Grpc.Net.Client;

namespace Granary.Observability.Tests;

/// <summary>
/// A silo process (silo/Granary.Silo with --repo: SQLite registry and online store, DuckDB over Parquet; /metrics on its
/// HTTP port) and a gateway in this process as an Orleans client of it (as Granary.Gateway.Server runs, on localhost
/// clustering), with the definitions applied. The two expose different meters: materialization and push are recorded on
/// the silo, online requests and served values on the gateway.
/// </summary>
public sealed class ObservedCluster : IAsyncLifetime
{
    private readonly TestRepository _repository = new("granary-metrics-");
    private ClusterGateway? _gateway;

    public string Project { get; } = "obs" + Guid.NewGuid().ToString("N")[..8];
    public string ClusterId { get; } = "metrics-" + Guid.NewGuid().ToString("N")[..8];
    public SiloProcess Silo { get; private set; } = null!;
    public string GatewayRestUrl { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public IGrainFactory Grains { get; private set; } = null!;

    /// <summary>host:port of the silo's and the gateway's /metrics.</summary>
    public string SiloTarget => $"127.0.0.1:{Silo.HttpPort}";
    public string GatewayTarget => new Uri(GatewayRestUrl).Authority;

    public async Task InitializeAsync()
    {
        await _repository.WriteGranaryYamlAsync(Project);
        WriteData();
        Silo = SiloProcess.Start("--repo", _repository.Root, "--cluster-id", ClusterId);
        try
        {
            await StartGatewayAsync();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"fixture: the gateway could not reach the silo ({e.Message}). Silo output:\n{Silo.Output}", e);
        }
        await Grains.ApplyAsync(Definitions());
        File.Delete(Path.Combine(_repository.DataDirectory, "gone.parquet"));
        await KnownTraffic.SendAsync(this);
    }

    private async Task StartGatewayAsync()
    {
        // The silo's HTTP port opens after the silo has started (the web server starts last), so then its gateway listens.
        using (var probe = new HttpClient { BaseAddress = new Uri($"http://{SiloTarget}") })
        {
            await Eventually.WaitUntil(async () =>
            {
                if (Silo.HasExited) throw new InvalidOperationException("the silo process exited");
                try { return (await probe.GetAsync("/metrics")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, PrometheusServer.Limit, "the silo answers /metrics");
        }
        // The silo uses its --cluster-id as cluster and service id.
        _gateway = await ClusterGateway.StartAsync(_repository.Root, Silo.GatewayPort, ClusterId, Project, o =>
        {
            o.RestPort = 0;
            o.GrpcPort = 0;
            o.WebPort = GatewayOptions.WebPortOff;
        }, logWarnings: true);
        GatewayRestUrl = _gateway.RestUrl;
        Http = new HttpClient { BaseAddress = new Uri(_gateway.RestUrl) };
        Channel = GrpcChannel.ForAddress(_gateway.GrpcUrl);
        Grains = _gateway.Grains;
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Http?.Dispose();
        if (_gateway is not null) await _gateway.DisposeAsync();
        Silo?.Dispose();
        _repository.Dispose();
    }

    private RegistrySnapshot Definitions() => new()
    {
        Project = Project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "pushed_batch", Path = "data/pushed.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "gone", Path = "data/gone.parquet", TimestampField = "event_timestamp" },
            new PushSource { Name = "driver_push", BatchSource = "pushed_batch" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                // Rows from 2024 against a one-hour SLA: every value served is stale, on purpose.
                Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(36500), FreshnessSla = TimeSpan.FromHours(1),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                // Its file is deleted after apply, so its materialization fails.
                Name = "gone_stats", Entities = ["driver"], Source = "gone", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("conv_rate", new(ScalarType.Float64))],
            },
            new FeatureView
            {
                Name = "pushed_stats", Entities = ["driver"], Source = "driver_push", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("speed", new(ScalarType.Float64))],
            },
        ],
    };

    private void WriteData() => _repository.WriteData(data => $"""
            COPY (SELECT * FROM (VALUES
                (1::BIGINT, TIMESTAMPTZ '2024-01-01 10:00:00+00', 0.1::DOUBLE, 10::BIGINT),
                (2::BIGINT, TIMESTAMPTZ '2024-01-01 11:00:00+00', 0.2::DOUBLE, 20::BIGINT),
                (3::BIGINT, TIMESTAMPTZ '2024-01-01 12:00:00+00', 0.3::DOUBLE, 30::BIGINT))
              t(driver_id, event_timestamp, conv_rate, trips)) TO '{data}/drivers.parquet' (FORMAT parquet);
            COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0.5::DOUBLE AS conv_rate) TO '{data}/gone.parquet' (FORMAT parquet);
            COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 1.0::DOUBLE AS speed) TO '{data}/pushed.parquet' (FORMAT parquet);
            """);
}
