using Granary.Definitions;
using Granary.Erasure;

namespace Granary.Registry.Tests;

/// <summary>What an erasure request means against a registry (<see cref="ErasurePlan"/>), and the errors that name the bad value.</summary>
public sealed class ErasurePlanTests
{
    private static readonly RegistrySnapshot Registry = new()
    {
        Project = "rides",
        Entities =
        [
            new Entity { Name = "driver", JoinKey = "driver_id" },
            new Entity { Name = "region", JoinKey = "region", ValueType = new(ScalarType.String) },
        ],
        DataSources =
        [
            new FileSource { Name = "upstream", Path = "data/stats.parquet", TimestampField = "ts" },
            new FileSource { Name = "pushed", Path = "data/pushed", TimestampField = "ts", FieldMapping = new Dictionary<string, string> { ["drv"] = "driver_id" } },
            new PushSource { Name = "push", BatchSource = "pushed" },
        ],
        FeatureViews =
        [
            new FeatureView { Name = "stats", Entities = ["driver"], Source = "upstream", Features = [new Field("trips", new(ScalarType.Int64))] },
            new FeatureView { Name = "fresh", Entities = ["driver"], Source = "push", Features = [new Field("speed", new(ScalarType.Float64))] },
            new FeatureView { Name = "by_region", Entities = ["driver", "region"], Source = "upstream", Features = [new Field("trips", new(ScalarType.Int64))] },
        ],
    };

    private static ErasurePlan Plan(string[] pairs, params string[] views) => ErasurePlan.For(Registry, pairs.Select(ErasurePlan.ParsePair).ToList(), views);

    [Fact]
    public void Without_views_every_view_keyed_by_exactly_the_join_keys_is_erased_with_typed_stored_keys()
    {
        var plan = Plan(["driver_id=0042"]);

        Assert.Equal("rides/driver_id=42", plan.Entity.Canonical);
        Assert.Equal(["stats", "fresh"], plan.Targets.Select(t => t.View.Name));
        var fresh = plan.Targets.Single(t => t.View.Name == "fresh");
        Assert.True(fresh.GranaryWrites);
        Assert.Equal("pushed", fresh.BatchSource.Name);
        // The push's batch source stores the join key as "drv" (field mapping): the delete names the stored column.
        Assert.Equal([new KeyValuePair<string, object>("drv", 42L)], fresh.StoredKey);
        Assert.False(plan.Targets.Single(t => t.View.Name == "stats").GranaryWrites);
    }

    [Fact]
    public void A_composite_key_erases_the_views_keyed_by_both()
    {
        var plan = Plan(["region=eu", "driver_id=7"]);
        Assert.Equal("rides/driver_id=7;region=eu", plan.Entity.Canonical);
        Assert.Equal(["by_region"], plan.Targets.Select(t => t.View.Name));
    }

    [Theory]
    [InlineData(new[] { "driver_id=abc" }, new string[0], "value 'abc' of join key 'driver_id' is not of type Int64 (the type of entity 'driver')")]
    [InlineData(new[] { "rider_id=1" }, new string[0], "'rider_id' is not a join key of project 'rides'; known join keys: driver_id, region")]
    [InlineData(new[] { "driver_id=1" }, new[] { "nope" }, "'nope' is not a feature view of project 'rides'; known: stats, fresh, by_region")]
    [InlineData(new[] { "driver_id=1" }, new[] { "by_region" }, "feature view 'by_region' is keyed by driver_id, region, but the erasure names driver_id")]
    [InlineData(new[] { "region=eu" }, new string[0], "no feature view of project 'rides' is keyed by exactly region; views and their join keys: stats (driver_id), fresh (driver_id), by_region (driver_id, region)")]
    [InlineData(new[] { "driver_id=1", "driver_id=2" }, new string[0], "join key 'driver_id' is given twice")]
    public void Bad_requests_name_the_value(string[] pairs, string[] views, string message)
        => Assert.Equal(message, Assert.Throws<ErasureRequestException>(() => Plan(pairs, views)).Message);

    [Theory]
    [InlineData("driver_id")]
    [InlineData("=1")]
    [InlineData("driver_id=")]
    public void A_pair_without_key_or_value_is_refused(string text)
        => Assert.Equal($"--entity '{text}' is not <join key>=<value>", Assert.Throws<ErasureRequestException>(() => ErasurePlan.ParsePair(text)).Message);
}
