using Granary.Definitions;
using Granary.Online;
using ValueType = Granary.Definitions.ValueType;
using static Granary.Online.Tests.TestRows;

namespace Granary.Online.Tests;

/// <summary>The read rules under a controlled clock: each status, the ttl and SLA bounds exactly, the stale flag.</summary>
public sealed class OnlineReadRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static FeatureView View(TimeSpan? ttl = null, TimeSpan? sla = null, Dictionary<string, string>? tags = null) => new()
    {
        Name = "driver_stats",
        Source = "trips",
        Entities = ["driver"],
        Features = [new Field("trips", new ValueType(ScalarType.Int64)), new Field("rating", new ValueType(ScalarType.Float64)), new Field("city", new ValueType(ScalarType.String))],
        Ttl = ttl,
        FreshnessSla = sla,
        Tags = tags ?? RegistryObject.EmptyTags,
    };

    private static OnlineRow RowAged(TimeSpan age) => new(Driver(1), "driver_stats", Now - age, null,
        new Dictionary<string, object?> { ["trips"] = 12L, ["rating"] = null });

    [Fact]
    public void No_row_is_not_found_for_every_feature_without_timestamp_or_stale_flag()
    {
        var results = OnlineReadRules.Evaluate(null, View(ttl: TimeSpan.FromHours(1), sla: TimeSpan.FromMinutes(1)), Now);
        Assert.Equal(["trips", "rating", "city"], results.Select(r => r.Feature));
        Assert.All(results, r => Assert.Equal(new FeatureReadResult(r.Feature, null, FeatureStatus.NotFound, null, false), r));
    }

    [Fact]
    public void A_held_row_gives_present_null_value_and_not_found_per_feature()
    {
        var row = RowAged(TimeSpan.FromMinutes(5));
        var results = OnlineReadRules.Evaluate(row, View(), Now);
        Assert.Equal(new FeatureReadResult("trips", 12L, FeatureStatus.Present, row.EventTimestamp, false), results[0]);
        Assert.Equal(new FeatureReadResult("rating", null, FeatureStatus.NullValue, row.EventTimestamp, false), results[1]);
        Assert.Equal(new FeatureReadResult("city", null, FeatureStatus.NotFound, row.EventTimestamp, false), results[2]);
    }

    [Fact]
    public void An_age_of_exactly_the_ttl_is_present_and_one_tick_more_is_outside_max_age_with_the_value()
    {
        var view = View(ttl: TimeSpan.FromHours(2));
        Assert.Equal(FeatureStatus.Present, OnlineReadRules.Evaluate(RowAged(TimeSpan.FromHours(2)), view, ["trips"], Now)[0].Status);
        var outside = OnlineReadRules.Evaluate(RowAged(TimeSpan.FromHours(2) + TimeSpan.FromTicks(1)), view, ["trips"], Now)[0];
        Assert.Equal(FeatureStatus.OutsideMaxAge, outside.Status);
        Assert.Equal(12L, outside.Value);
    }

    [Fact]
    public void A_null_value_stays_null_value_whatever_its_age()
        => Assert.Equal(FeatureStatus.NullValue,
            OnlineReadRules.Evaluate(RowAged(TimeSpan.FromDays(30)), View(ttl: TimeSpan.FromHours(1)), ["rating"], Now)[0].Status);

    [Theory]
    [InlineData(0)]
    [InlineData(null)]
    public void A_ttl_of_zero_or_none_has_no_limit(int? ttlHours)
    {
        var view = View(ttl: ttlHours is { } h ? TimeSpan.FromHours(h) : null);
        Assert.Equal(FeatureStatus.Present, OnlineReadRules.Evaluate(RowAged(TimeSpan.FromDays(3650)), view, ["trips"], Now)[0].Status);
    }

    [Fact]
    public void Stale_is_set_only_past_the_sla_and_independently_of_the_ttl()
    {
        var view = View(ttl: TimeSpan.FromHours(1), sla: TimeSpan.FromMinutes(15));
        Assert.False(OnlineReadRules.Evaluate(RowAged(TimeSpan.FromMinutes(15)), view, ["trips"], Now)[0].Stale);
        var stale = OnlineReadRules.Evaluate(RowAged(TimeSpan.FromMinutes(15) + TimeSpan.FromTicks(1)), view, Now);
        Assert.All(stale, r => Assert.True(r.Stale, r.Feature)); // every feature of a held row, NULL_VALUE and NOT_FOUND included
        Assert.Equal(FeatureStatus.Present, stale[0].Status);
        var both = OnlineReadRules.Evaluate(RowAged(TimeSpan.FromHours(3)), view, ["trips"], Now)[0];
        Assert.Equal((FeatureStatus.OutsideMaxAge, true), (both.Status, both.Stale));
    }

    [Fact]
    public void A_row_from_the_future_is_present_and_fresh()
    {
        var r = OnlineReadRules.Evaluate(RowAged(TimeSpan.FromMinutes(-10)), View(ttl: TimeSpan.FromMinutes(1), sla: TimeSpan.FromMinutes(1)), ["trips"], Now)[0];
        Assert.Equal((FeatureStatus.Present, false), (r.Status, r.Stale));
    }

    [Fact]
    public void The_sla_comes_from_freshness_sla_or_else_the_sla_freshness_minutes_tag()
    {
        Assert.Null(OnlineReadRules.FreshnessSlaOf(View()));
        Assert.Equal(TimeSpan.FromMinutes(7.5), OnlineReadRules.FreshnessSlaOf(View(tags: new() { ["sla_freshness_minutes"] = "7.5" })));
        Assert.Equal(TimeSpan.FromMinutes(3), OnlineReadRules.FreshnessSlaOf(View(sla: TimeSpan.FromMinutes(3), tags: new() { ["sla_freshness_minutes"] = "60" })));
        Assert.Null(OnlineReadRules.FreshnessSlaOf(View(tags: new() { ["sla_freshness_minutes"] = "0" })));
        var view = View(tags: new() { ["sla_freshness_minutes"] = "10" });
        Assert.True(OnlineReadRules.Evaluate(RowAged(TimeSpan.FromMinutes(11)), view, ["trips"], Now)[0].Stale);
        Assert.False(OnlineReadRules.Evaluate(RowAged(TimeSpan.FromMinutes(10)), view, ["trips"], Now)[0].Stale);
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("-5")]
    [InlineData("NaN")]
    [InlineData("")]
    public void A_freshness_tag_that_is_not_minutes_is_refused_naming_view_and_value(string text)
    {
        var error = Assert.Throws<OnlineRowSchemaException>(() => OnlineReadRules.FreshnessSlaOf(View(tags: new() { ["sla_freshness_minutes"] = text })));
        Assert.Contains("'driver_stats'", error.Message);
        Assert.Contains($"'{text}'", error.Message);
        Assert.NotNull(error.Hint);
    }
}
