using Granary.Definitions;
using Granary.Gateway.Catalog;

namespace Granary.Ui.Tests;

/// <summary>The catalog's freshness rule on its boundaries: age from the newest interval's end, stale only when over the SLA.</summary>
public sealed class ViewFreshnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static FeatureView View(TimeSpan? sla) => new() { Name = "v", Source = "s", Features = [], FreshnessSla = sla };

    private static MaterializationInterval EndingAt(DateTimeOffset end) => new(end.AddDays(-1), end, end);

    [Fact]
    public void Age_is_measured_from_the_newest_end_not_the_last_recorded_interval()
    {
        // A backfill of an old window recorded after the newest one does not make the view older.
        var report = ViewFreshness.Evaluate(View(TimeSpan.FromHours(1)), [EndingAt(Now.AddMinutes(-10)), EndingAt(Now.AddDays(-30))], Now);
        Assert.Equal(FreshnessState.Fresh, report.State);
        Assert.Equal(TimeSpan.FromMinutes(10), report.Age);
        Assert.Equal(Now.AddMinutes(-10), report.FreshAsOf);
    }

    [Fact]
    public void Exactly_at_the_sla_is_fresh_and_one_second_over_is_stale()
    {
        Assert.Equal(FreshnessState.Fresh, ViewFreshness.Evaluate(View(TimeSpan.FromHours(1)), [EndingAt(Now.AddHours(-1))], Now).State);
        var over = ViewFreshness.Evaluate(View(TimeSpan.FromHours(1)), [EndingAt(Now.AddHours(-1).AddSeconds(-1))], Now);
        Assert.Equal(FreshnessState.Stale, over.State);
        Assert.True(over.IsStale);
    }

    [Fact]
    public void A_window_ending_in_the_future_has_age_zero()
    {
        var report = ViewFreshness.Evaluate(View(TimeSpan.FromMinutes(5)), [EndingAt(Now.AddHours(2))], Now);
        Assert.Equal((FreshnessState.Fresh, TimeSpan.Zero), (report.State, report.Age));
    }

    [Fact]
    public void Without_an_sla_nothing_is_stale_and_without_intervals_the_view_is_never_materialized()
    {
        var noSla = ViewFreshness.Evaluate(View(null), [EndingAt(Now.AddDays(-400))], Now);
        Assert.Equal((FreshnessState.NoSla, false), (noSla.State, noSla.IsStale));
        Assert.Equal(TimeSpan.FromDays(400), noSla.Age);
        // A zero SLA is no SLA (as the online read path treats it).
        Assert.Equal(FreshnessState.NoSla, ViewFreshness.Evaluate(View(TimeSpan.Zero), [EndingAt(Now.AddDays(-1))], Now).State);

        var never = ViewFreshness.Evaluate(View(TimeSpan.FromHours(1)), [], Now);
        Assert.Equal((FreshnessState.NeverMaterialized, false, (TimeSpan?)null), (never.State, never.IsStale, never.Age));
        Assert.Equal(TimeSpan.FromHours(1), never.Sla);
    }

    [Fact]
    public void The_sla_comes_from_the_field_else_the_read_paths_minutes_tag_and_a_malformed_tag_is_none()
    {
        var tagged = new FeatureView { Name = "v", Source = "s", Features = [], Tags = new Dictionary<string, string> { ["sla_freshness_minutes"] = "15" } };
        var report = ViewFreshness.Evaluate(tagged, [EndingAt(Now.AddMinutes(-20))], Now);
        Assert.Equal((FreshnessState.Stale, (TimeSpan?)TimeSpan.FromMinutes(15)), (report.State, report.Sla));
        var malformed = tagged with { Tags = new Dictionary<string, string> { ["sla_freshness_minutes"] = "soon" } };
        Assert.Equal(FreshnessState.NoSla, ViewFreshness.Evaluate(malformed, [EndingAt(Now.AddMinutes(-20))], Now).State);
    }
}
