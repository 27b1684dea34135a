using Granary.Definitions;
using Granary.Testing;
using Grpc.Net.Client;

namespace Granary.Gateway.Tests;

/// <summary>
/// One real server per test class: an embedded silo over a fresh repository (SQLite registry and online store, DuckDB over
/// Parquet), the definitions applied, two views materialized, and the gateway on free loopback ports.
/// </summary>
/// <remarks>
/// Data, chosen so every status shows: driver 1 has an older and a newer row (the newer is served), driver 2 one row,
/// driver 3 none (NOT_FOUND); city "Paris" one row. <c>big_stats</c> holds 60,000 entities, so its materialization runs long
/// enough for a second window to meet it running; <c>late_stats</c> is left unmaterialized for the materialize tests.
/// </remarks>
public class GatewayServer : EmbeddedServerFixture
{
    public static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public GatewayServer() : base("gw", "granary-gateway-")
    {
    }

    public GrpcChannel Channel { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Channel = GrpcChannel.ForAddress(Gateway.GrpcUrl);
    }

    /// <summary>The granary.yaml online_store section; default the embedded SQLite store.</summary>
    protected virtual string OnlineStoreYaml => "";

    protected sealed override string Yaml => OnlineStoreYaml;

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(Definitions());
        foreach (var view in new[] { "driver_stats", "city_stats" }) await MaterializeAsync(view, Day, Day.AddDays(2));
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = 0;
        o.MaxRequestBodyBytes = 256 * 1024;
    }

    public override async Task DisposeAsync()
    {
        Channel?.Dispose();
        await base.DisposeAsync();
    }

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
            new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp", CreatedTimestampField = "created" },
            new FileSource { Name = "cities", Path = "data/cities.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "big", Path = "data/big.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "pushed_batch", Path = "data/pushed.parquet", TimestampField = "event_timestamp" },
            new PushSource { Name = "driver_push", BatchSource = "pushed_batch" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64)), new Field("rating", new(ScalarType.Float32))],
            },
            new FeatureView
            {
                Name = "late_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "city_stats", Entities = ["city"], Source = "cities", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("population", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "offline_only", Entities = ["driver"], Source = "drivers", Online = false,
                Features = [new Field("trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "big_stats", Entities = ["driver"], Source = "big", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("score", new(ScalarType.Float64))],
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
            COPY (SELECT * FROM (VALUES
                (1::BIGINT, TIMESTAMPTZ '2024-01-01 10:00:00+00', TIMESTAMPTZ '2024-01-01 10:00:00+00', 0.1::DOUBLE, 10::BIGINT, 4.0::FLOAT),
                (1::BIGINT, TIMESTAMPTZ '2024-01-02 10:00:00+00', TIMESTAMPTZ '2024-01-02 10:00:00+00', 0.5::DOUBLE, 20::BIGINT, 4.5::FLOAT),
                (2::BIGINT, TIMESTAMPTZ '2024-01-01 12:00:00+00', TIMESTAMPTZ '2024-01-01 12:00:00+00', 0.25::DOUBLE, 5::BIGINT, 3.5::FLOAT))
              t(driver_id, event_timestamp, created, conv_rate, trips, rating)) TO '{data}/drivers.parquet' (FORMAT parquet);
            COPY (SELECT 'Paris' AS city, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 2100000::BIGINT AS population) TO '{data}/cities.parquet' (FORMAT parquet);
            COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i % 86400) AS event_timestamp, (i % 1000) / 1000.0 AS score
                  FROM range(60000) r(i)) TO '{data}/big.parquet' (FORMAT parquet);
            COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 1.0::DOUBLE AS speed) TO '{data}/pushed.parquet' (FORMAT parquet);
            """);
}
