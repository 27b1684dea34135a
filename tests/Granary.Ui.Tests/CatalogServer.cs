using Granary.Definitions;
using Granary.Gateway;
using Granary.Gateway.Catalog;
using Granary.Testing;
using Orleans.Hosting;

namespace Granary.Ui.Tests;

/// <summary>
/// One real server for the catalog tests: an embedded silo with the Orleans dashboard over a fresh repository (SQLite
/// registry and online store, DuckDB over Parquet), two registry versions applied, and the gateway on free loopback ports.
/// </summary>
/// <remarks>
/// The views, chosen so every freshness state shows:
/// <c>driver_stats</c> (SLA 1h) is materialized over a window ending now: fresh;
/// <c>driver_daily</c> (SLA 2h) over a window that ended on 2024-01-03: stale;
/// <c>city_stats</c> has no SLA and <c>late_stats</c> (SLA 30m) is left unmaterialized for the browser test to make stale.
/// Version 2 changes <c>driver_stats</c> (a new feature, a new SLA, a tag) so its history has a diff.
/// </remarks>
public sealed class CatalogServer : EmbeddedServerFixture
{
    public CatalogServer() : base("ui", "granary-ui-")
    {
    }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    protected override void ConfigureSilo(ISiloBuilder silo) => silo.AddGranaryDashboard();

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(Definitions(version: 1), expectedVersion: 0);
        await ApplyAsync(Definitions(version: 2), expectedVersion: 1);
        await MaterializeAsync("driver_stats", StartedAt.AddDays(-1), StartedAt);
        await MaterializeAsync("driver_daily", new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 1, 3, 0, 0, 0, TimeSpan.Zero));
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        // Any free port rather than 8888, so test runs side by side do not collide; browsers open the web port.
        o.WebPort = 0;
    }

    private RegistrySnapshot Definitions(int version) => new()
    {
        Project = Project,
        Entities =
        [
            new Entity { Name = "driver", JoinKey = "driver_id", Description = "A driver of the fleet", Tags = new Dictionary<string, string> { ["owner"] = "fleet@example.com" } },
            new Entity { Name = "city", JoinKey = "city", ValueType = new(ScalarType.String) },
        ],
        DataSources =
        [
            new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "cities", Path = "data/cities.parquet", TimestampField = "event_timestamp" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(7),
                Owner = "ranking-team@example.com", Description = "Hourly driver quality signals",
                FreshnessSla = version == 1 ? TimeSpan.FromHours(2) : TimeSpan.FromHours(1),
                Tags = version == 1 ? new Dictionary<string, string> { ["team"] = "ranking" } : new Dictionary<string, string> { ["team"] = "ranking", ["tier"] = "gold" },
                Features = version == 1
                    ? [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))]
                    : [new Field("conv_rate", new(ScalarType.Float64), "Share of offers accepted"), new Field("trips", new(ScalarType.Int64)), new Field("acc_rate", new(ScalarType.Float64))],
            },
            new FeatureView
            {
                Name = "driver_daily", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(3650),
                Owner = "risk@example.com", FreshnessSla = TimeSpan.FromHours(2), Tags = new Dictionary<string, string> { ["team"] = "risk" },
                Features = [new Field("trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "late_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(3650),
                Owner = "risk@example.com", FreshnessSla = TimeSpan.FromMinutes(30),
                Features = [new Field("late_trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "city_stats", Entities = ["city"], Source = "cities", Ttl = TimeSpan.FromDays(3650),
                Features = [new Field("population", new(ScalarType.Int64))],
            },
        ],
        FeatureServices =
        [
            new FeatureService
            {
                Name = "ranking_v2", Tags = new Dictionary<string, string> { ["model"] = "driver_ranker" },
                Projections = [new FeatureViewProjection { View = "driver_stats", Features = ["conv_rate", "trips"] }],
            },
            new FeatureService
            {
                Name = "risk_service",
                Projections = [new FeatureViewProjection { View = "driver_stats" }, new FeatureViewProjection { View = "driver_daily" }],
            },
        ],
    };

    /// <summary>Writes the sources' Parquet files with DuckDB.</summary>
    protected override void WriteData(TestRepository repository)
    {
        // Rows both recent (an hour ago, inside driver_stats' window ending now) and from January 2024 (driver_daily's window).
        var recent = StartedAt.AddHours(-1).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");
        repository.WriteData(data => $"""
            COPY (SELECT * FROM (VALUES
                (1::BIGINT, TIMESTAMPTZ '2024-01-02 10:00:00+00', 0.5::DOUBLE, 20::BIGINT, 0.9::DOUBLE, 2::BIGINT),
                (2::BIGINT, TIMESTAMPTZ '2024-01-02 12:00:00+00', 0.25::DOUBLE, 5::BIGINT, 0.8::DOUBLE, 0::BIGINT),
                (1::BIGINT, TIMESTAMPTZ '{recent}+00', 0.6::DOUBLE, 21::BIGINT, 0.95::DOUBLE, 3::BIGINT))
              t(driver_id, event_timestamp, conv_rate, trips, acc_rate, late_trips)) TO '{data}/drivers.parquet' (FORMAT parquet);
            COPY (SELECT 'Paris' AS city, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 2100000::BIGINT AS population) TO '{data}/cities.parquet' (FORMAT parquet);
            """);
    }
}

[CollectionDefinition(Name)]
public sealed class CatalogServerCollection : ICollectionFixture<CatalogServer>
{
    public const string Name = "catalog server";
}
