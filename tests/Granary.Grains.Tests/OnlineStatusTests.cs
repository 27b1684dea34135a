using Granary.Grains.Online;
using Granary.Online;
using Granary.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Grains.Tests;

/// <summary>
/// Each per-feature status a reader gets through the entity grains, under a clock the test moves (ttl 1 hour, SLA 5
/// minutes), on the shared test Redis (a project of its own).
/// </summary>
public sealed class OnlineStatusTests() : SteppedClockClusterTest("status")
{
    [Fact]
    public async Task Present_null_value_not_found_outside_max_age_and_stale_follow_the_clock()
    {
        var written = OnlineTime.Truncate(Clock.GetUtcNow().AddMinutes(-1));
        // Driver 1 holds a rate and a null trip count; driver 2 holds nothing.
        Assert.Equal(new[] { true }, await Entity(1).WriteAsync(OnlineResilienceTests.Write(written, 0.25, null)));

        var fresh = await ReadAsync();
        AssertFeature(fresh[0][0], FeatureStatus.Present, 0.25, written, stale: false);
        AssertFeature(fresh[0][1], FeatureStatus.NullValue, null, written, stale: false);
        AssertFeature(fresh[1][0], FeatureStatus.NotFound, null, null, stale: false);
        AssertFeature(fresh[1][1], FeatureStatus.NotFound, null, null, stale: false);

        // 11 minutes old: past the 5-minute SLA, inside the 1-hour ttl.
        Clock.Advance(TimeSpan.FromMinutes(10));
        var late = await ReadAsync();
        AssertFeature(late[0][0], FeatureStatus.Present, 0.25, written, stale: true);
        AssertFeature(late[0][1], FeatureStatus.NullValue, null, written, stale: true);
        AssertFeature(late[1][0], FeatureStatus.NotFound, null, null, stale: false);

        // 71 minutes old: outside the ttl; the value is still returned, with its event time.
        Clock.Advance(TimeSpan.FromHours(1));
        var expired = await ReadAsync();
        AssertFeature(expired[0][0], FeatureStatus.OutsideMaxAge, 0.25, written, stale: true);
        AssertFeature(expired[0][1], FeatureStatus.NullValue, null, written, stale: true);

        // The same after the grain is gone and its row is loaded from Redis again.
        await Cluster.Grains.GetGrain<Orleans.Runtime.IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var reloaded = await ReadAsync();
        AssertFeature(reloaded[0][0], FeatureStatus.OutsideMaxAge, 0.25, written, stale: true);
        AssertFeature(reloaded[1][0], FeatureStatus.NotFound, null, null, stale: false);

        // A newer write is fresh again.
        var now = OnlineTime.Truncate(Clock.GetUtcNow());
        Assert.Equal(new[] { true }, await Entity(1).WriteAsync(OnlineResilienceTests.Write(now, 0.75, 3)));
        var rewritten = await ReadAsync();
        AssertFeature(rewritten[0][0], FeatureStatus.Present, 0.75, now, stale: false);
        AssertFeature(rewritten[0][1], FeatureStatus.Present, 3L, now, stale: false);
    }

    private static void AssertFeature(FeatureReadResult result, FeatureStatus status, object? value, DateTimeOffset? eventTime, bool stale)
    {
        Assert.Equal(status, result.Status);
        Assert.Equal(value, result.Value);
        Assert.Equal(eventTime, result.EventTimestamp);
        Assert.Equal(stale, result.Stale);
    }

    private IEntityGrain Entity(long driver) => Cluster.Grains.GetGrain<IEntityGrain>(Key(driver).Canonical);

    private EntityKey Key(long driver) => EntityKey.Create(Project, "driver_id", driver.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<IReadOnlyList<FeatureReadResult[]>> ReadAsync()
        => await new EntityGrainFeatureSource(Cluster.Grains).ReadAsync([Key(1), Key(2)],
            new OnlineViewSelection(["driver_stats"], [["conv_rate", "trips"]]), CancellationToken.None);
}
