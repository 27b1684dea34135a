using Granary.Definitions;
using Granary.Gateway.Catalog;
using Granary.Testing;
using Grpc.Net.Client;
using Orleans.Hosting;

namespace Granary.Gateway.Tests.Fuzz;

/// <summary>
/// The server the bad-input fuzz test runs against: an embedded silo with the Orleans dashboard over a fresh repository
/// (SQLite registry and online store, DuckDB over Parquet), small views materialized, a push source whose batch source is
/// one Parquet file (so offline pushes rewrite the file parity reads), a request source, and the gateway on loopback ports.
/// </summary>
public sealed class FuzzServer : EmbeddedServerFixture
{
    public static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public FuzzServer() : base("fz", "granary-fuzz-")
    {
    }

    public GrpcChannel Channel { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Channel = GrpcChannel.ForAddress(Gateway.GrpcUrl);
    }

    public override async Task DisposeAsync()
    {
        Channel?.Dispose();
        await base.DisposeAsync();
    }

    protected override void ConfigureSilo(ISiloBuilder silo) => silo.AddGranaryDashboard();

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(Definitions());
        foreach (var view in new[] { "driver_stats", "city_stats", "pushed_stats" }) await MaterializeAsync(view, Day, Day.AddDays(2));
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
        o.MaxRequestBodyBytes = 256 * 1024;
    }

    protected override HttpClient CreateHttpClient(Uri restUrl) => new() { BaseAddress = restUrl, Timeout = TimeSpan.FromSeconds(15) };

    private RegistrySnapshot Definitions() => new()
    {
        Project = Project,
        Entities =
        [
            new Entity { Name = "driver", JoinKey = "driver_id" },
            new Entity { Name = "city", JoinKey = "city", ValueType = new(ScalarType.String) },
        ],
        DataSources =
        [
            new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "cities", Path = "data/cities.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "pushed_batch", Path = "data/pushed.parquet", TimestampField = "event_timestamp" },
            new PushSource { Name = "driver_push", BatchSource = "pushed_batch" },
            new RequestSource { Name = "ride", Schema = [new Field("ride_at", new(ScalarType.UnixTimestamp)), new Field("distance", new(ScalarType.Float64))] },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "city_stats", Entities = ["city"], Source = "cities", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("population", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "pushed_stats", Entities = ["driver"], Source = "driver_push", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("speed", new(ScalarType.Float64))],
            },
        ],
        FeatureServices =
        [
            new FeatureService { Name = "driver_service", Projections = [new FeatureViewProjection { View = "driver_stats", Features = ["conv_rate", "trips"] }] },
        ],
    };

    protected override void WriteData(TestRepository repository) => repository.WriteData(data => $"""
            COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS event_timestamp, i / 100.0 AS conv_rate, (10 * i)::BIGINT AS trips
                  FROM range(1, 21) r(i)) TO '{data}/drivers.parquet' (FORMAT parquet);
            COPY (SELECT 'Paris' AS city, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 2100000::BIGINT AS population) TO '{data}/cities.parquet' (FORMAT parquet);
            COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, i * 1.5 AS speed
                  FROM range(1, 21) r(i)) TO '{data}/pushed.parquet' (FORMAT parquet);
            """);
}
