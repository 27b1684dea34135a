using System.Globalization;
using Granary.Definitions;
using Granary.Gateway;
using Granary.Gateway.FeatureHealth;
using Granary.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Health.Tests;

/// <summary>
/// One real server per test class: an embedded silo over a fresh repository (SQLite registry and online store, DuckDB over
/// Parquet), definitions applied, two views materialized up to now, and the gateway on free loopback ports with feature
/// logging of every served row.
/// </summary>
/// <remarks>
/// Data, relative to the fixture's start (<see cref="Now"/>), chosen so every parity rule shows: drivers 1-60 have an older
/// row (30 h ago) and a newer one (2 h ago, the one both sides must agree on); drivers 61-65 only a row 3 days old, outside
/// the 1-day ttl (offline NULL, online OUTSIDE_MAX_AGE: a match); driver 66 a row 1 h ago whose conv_rate is NULL.
/// Driver i's newer row: conv_rate i/100, trips 10 i, rating i/10 (Float32), tier gold/silver/bronze by i mod 3.
/// </remarks>
public class HealthServer : EmbeddedServerFixture
{
    public HealthServer() : base("hp", "granary-health-")
    {
    }

    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;
    public FeatureLogger FeatureLogger => Gateway.Services.GetRequiredService<FeatureLogger>();

    public const string GranaryYaml = """
        feature_logging:
          sample_rate: 1.0
          flush_every: 1s
        health:
          parity_every: 1h
          parity_sample: 100
        """;

    /// <summary>granary.yaml after the project line.</summary>
    protected override string Yaml => GranaryYaml + "\n";

    // No reader registered here: AddGranaryStores gives every silo the DuckDB one, so REST drift reads Parquet baselines.
    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(Definitions());
        foreach (var view in new[] { "driver_stats", "planted_stats" }) await MaterializeAsync(view, Now.AddDays(-10), Now);
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
    }

    protected override HttpClient CreateHttpClient(Uri restUrl) => new() { BaseAddress = restUrl, Timeout = TimeSpan.FromMinutes(5) };

    private RegistrySnapshot Definitions() => new()
    {
        Project = Project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources = [new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp", CreatedTimestampField = "created" }],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(1),
                Features =
                [
                    new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64)),
                    new Field("rating", new(ScalarType.Float32)), new Field("tier", new(ScalarType.String)),
                ],
            },
            new FeatureView
            {
                Name = "planted_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(1),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
            },
        ],
        FeatureServices =
        [
            new FeatureService { Name = "driver_service", Projections = [new FeatureViewProjection { View = "driver_stats", Features = ["conv_rate", "tier"] }] },
        ],
    };

    protected override void WriteData(TestRepository repository)
    {
        string At(TimeSpan ago) => "TIMESTAMPTZ '" + (Now - ago).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'";
        repository.WriteData(data => $"""
            COPY (
              SELECT i::BIGINT AS driver_id, {At(TimeSpan.FromHours(2))} AS event_timestamp, {At(TimeSpan.FromHours(2))} AS created,
                     i / 100.0 AS conv_rate, (10 * i)::BIGINT AS trips, (i / 10.0)::FLOAT AS rating,
                     CASE i % 3 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'bronze' END AS tier
              FROM range(1, 61) r(i)
              UNION ALL
              SELECT i::BIGINT, {At(TimeSpan.FromHours(30))}, {At(TimeSpan.FromHours(30))}, 0.9, 1::BIGINT, 1.0::FLOAT, 'old' FROM range(1, 61) r(i)
              UNION ALL
              SELECT i::BIGINT, {At(TimeSpan.FromDays(3))}, {At(TimeSpan.FromDays(3))}, 0.3, 3::BIGINT, 3.0::FLOAT, 'stale' FROM range(61, 66) r(i)
              UNION ALL
              SELECT 66::BIGINT, {At(TimeSpan.FromHours(1))}, {At(TimeSpan.FromHours(1))}, NULL::DOUBLE, 66::BIGINT, 6.6::FLOAT, 'gold'
            ) TO '{data}/drivers.parquet' (FORMAT parquet);
            """);
    }
}
