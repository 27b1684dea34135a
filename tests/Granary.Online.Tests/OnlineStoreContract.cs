using Granary.Online;
using Xunit.Abstractions;
using static Granary.Online.Tests.TestRows;

namespace Granary.Online.Tests;

/// <summary>
/// What every <see cref="IOnlineStore"/> must do, run against each real store by a subclass. Each test gets fresh
/// storage (its own key prefix or file); <see cref="OpenAsync"/> opens another store instance over that same storage,
/// as another process or a restarted one would.
/// </summary>
public abstract class OnlineStoreContract(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<IOnlineStore> _opened = [];

    /// <summary>Opens a new store instance over this test's storage.</summary>
    protected abstract Task<IOnlineStore> OpenStoreAsync(TimeSpan? keyTtl);

    /// <summary>Removes this test's storage.</summary>
    protected abstract Task CleanUpAsync();

    /// <summary>The output of the test, for figures.</summary>
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Opens a store and closes it when the test ends.</summary>
    protected async Task<IOnlineStore> OpenAsync(TimeSpan? keyTtl = null)
    {
        var store = await OpenStoreAsync(keyTtl);
        _opened.Add(store);
        return store;
    }

    /// <inheritdoc/>
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        foreach (var store in _opened) await store.DisposeAsync();
        await CleanUpAsync();
    }

    private static async Task<OnlineRow?> ReadOneAsync(IOnlineStore store, EntityKey entity, string view = "driver_stats")
        => (await store.ReadAsync([entity], [view]))[0, 0];

    [Fact]
    public async Task Every_value_type_round_trips_exactly_with_null_distinct_from_missing()
    {
        var store = await OpenAsync();
        var view = EveryTypeView();
        var row = new OnlineRow(Driver(1), view.Name, T0.AddTicks(10), T0.AddMinutes(5), EveryTypeValues());
        OnlineValueTypes.Check(row, view);
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([row]));

        var back = await ReadOneAsync(await OpenAsync(), Driver(1), view.Name);
        Assert.NotNull(back);
        Assert.Equal(Driver(1), back.Entity);
        Assert.Equal(view.Name, back.FeatureView);
        Assert.Equal(T0.AddTicks(10), back.EventTimestamp);
        Assert.Equal(T0.AddMinutes(5), back.CreatedTimestamp);
        AssertSameValues(row.Values, back.Values);
        Assert.True(back.Values.ContainsKey("null_int") && back.Values["null_int"] is null);
        Assert.False(back.Values.ContainsKey("never_written"));
        var results = OnlineReadRules.Evaluate(back, view, ["null_int", "never_written", "f_Int64"], T0);
        Assert.Equal([FeatureStatus.NullValue, FeatureStatus.NotFound, FeatureStatus.Present], results.Select(r => r.Status));
    }

    [Fact]
    public async Task Timestamps_are_kept_in_utc_microseconds()
    {
        var store = await OpenAsync();
        var eventTs = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.FromHours(-5)).AddTicks(1_234_567);
        await store.WriteAsync([Trips(Driver(1), eventTs, 1)]);
        var back = await ReadOneAsync(store, Driver(1));
        Assert.Equal(TimeSpan.Zero, back!.EventTimestamp.Offset);
        Assert.Equal(eventTs.UtcTicks - 7, back.EventTimestamp.UtcTicks); // 1,234,567 ticks -> 123,456 microseconds
        Assert.Null(back.CreatedTimestamp);
    }

    [Fact]
    public async Task One_read_answers_many_entities_by_many_views_and_none_where_nothing_is_held()
    {
        var store = await OpenAsync();
        await store.WriteAsync([
            Trips(Driver(1), T0, 10),
            Trips(Driver(2), T0, 20, view: "driver_daily"),
            Trips(Driver(3), T0, 30), Trips(Driver(3), T0, 31, view: "driver_daily"),
            Trips(EntityKey.Create("other_project", "driver_id", "1"), T0, 99),
        ]);
        var result = await store.ReadAsync([Driver(1), Driver(2), Driver(3), Driver(4), Driver(1)], ["driver_stats", "driver_daily", "unknown_view"]);
        long? Trips_(int e, int v) => result[e, v] is { } r ? (long)r.Values["trips"]! : null;
        Assert.Equal([10L, null, null], new[] { Trips_(0, 0), Trips_(0, 1), Trips_(0, 2) });
        Assert.Equal([null, 20L, null], new[] { Trips_(1, 0), Trips_(1, 1), Trips_(1, 2) });
        Assert.Equal([30L, 31L, null], new[] { Trips_(2, 0), Trips_(2, 1), Trips_(2, 2) });
        Assert.Equal([null, null, null], new[] { Trips_(3, 0), Trips_(3, 1), Trips_(3, 2) });
        Assert.Equal(10L, Trips_(4, 0)); // the same entity asked twice
        Assert.Same(result.Entities[2], result[2, 1]!.Entity);
    }

    [Fact]
    public async Task A_row_with_an_older_event_timestamp_is_ignored()
    {
        var store = await OpenAsync();
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(Driver(1), T0, 2)]));
        Assert.Equal([OnlineWriteOutcome.IgnoredAsOlder], await store.WriteAsync([Trips(Driver(1), T0.AddTicks(-10), 1, created: T0.AddDays(1))]));
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(Driver(1), T0.AddTicks(10), 3)]));
        Assert.Equal(3L, (await ReadOneAsync(store, Driver(1)))!.Values["trips"]);
    }

    [Fact]
    public async Task With_equal_event_timestamps_the_later_created_timestamp_wins_and_none_is_oldest()
    {
        var store = await OpenAsync();
        var key = Driver(1);
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(key, T0, 1)]));                               // no created
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(key, T0, 2, created: T0.AddTicks(20))]));   // any created beats none
        Assert.Equal([OnlineWriteOutcome.IgnoredAsOlder], await store.WriteAsync([Trips(key, T0, 3)]));                      // none loses to a created
        Assert.Equal([OnlineWriteOutcome.IgnoredAsOlder], await store.WriteAsync([Trips(key, T0, 4, created: T0.AddTicks(10))])); // older created
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(key, T0, 5, created: T0.AddTicks(20))]));   // a tie replaces (a corrected re-run)
        Assert.Equal(5L, (await ReadOneAsync(store, key))!.Values["trips"]);
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(key, T0.AddTicks(10), 6)]));               // a later event beats any created
        Assert.Equal(6L, (await ReadOneAsync(store, key))!.Values["trips"]);
    }

    [Fact]
    public async Task An_out_of_order_batch_leaves_the_newest_row_of_each_entity()
    {
        var store = await OpenAsync();
        OnlineRow At(long id, int minutes) => Trips(Driver(id), T0.AddMinutes(minutes), minutes);
        var outcomes = await store.WriteAsync([At(1, 3), At(2, 1), At(1, 1), At(1, 5), At(2, 9), At(1, 2), At(2, 9), At(1, 4)]);
        Assert.Equal([
            OnlineWriteOutcome.Applied, OnlineWriteOutcome.Applied, OnlineWriteOutcome.IgnoredAsOlder, OnlineWriteOutcome.Applied,
            OnlineWriteOutcome.Applied, OnlineWriteOutcome.IgnoredAsOlder, OnlineWriteOutcome.Applied, OnlineWriteOutcome.IgnoredAsOlder,
        ], outcomes);
        var result = await store.ReadAsync([Driver(1), Driver(2)], ["driver_stats"]);
        Assert.Equal(5L, result[0, 0]!.Values["trips"]);
        Assert.Equal(9L, result[1, 0]!.Values["trips"]);
    }

    [Fact]
    public async Task A_large_shuffled_batch_of_few_entities_applies_in_order_across_the_whole_batch()
    {
        // 1,000 versions of 3 entities in random order in one call (larger than any internal chunk): a row is applied
        // exactly when it is newer than every earlier row of its entity in the batch.
        var store = await OpenAsync();
        var rows = (from v in Enumerable.Range(0, 1000) select Trips(Driver(v % 3), T0.AddSeconds(v), v)).ToArray();
        new Random(42).Shuffle(rows);
        var outcomes = await store.WriteAsync(rows);
        var newest = new Dictionary<EntityKey, DateTimeOffset>();
        for (var i = 0; i < rows.Length; i++)
        {
            var isNewer = !newest.TryGetValue(rows[i].Entity, out var held) || rows[i].EventTimestamp > held;
            if (isNewer) newest[rows[i].Entity] = rows[i].EventTimestamp;
            Assert.Equal(isNewer ? OnlineWriteOutcome.Applied : OnlineWriteOutcome.IgnoredAsOlder, outcomes[i]);
        }
        var result = await store.ReadAsync([Driver(0), Driver(1), Driver(2)], ["driver_stats"]);
        Assert.Equal([999L, 997L, 998L], Enumerable.Range(0, 3).Select(e => (long)result[e, 0]!.Values["trips"]!));
    }

    [Fact]
    public async Task Concurrent_writers_of_the_same_keys_leave_the_newest_row()
    {
        // Six writers over two store instances each write every version of the same 20 entities in their own random
        // order, in batches; whatever the interleaving, each entity must end at its newest version.
        const int entities = 20, versions = 60, writers = 6;
        var stores = new[] { await OpenAsync(), await OpenAsync() };
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(1000 + w);
            var rows = (from e in Enumerable.Range(1, entities) from v in Enumerable.Range(0, versions)
                        select Trips(Driver(e), T0.AddSeconds(v), v, created: T0.AddSeconds(w))).ToArray();
            random.Shuffle(rows);
            foreach (var chunk in rows.Chunk(50)) await stores[w % 2].WriteAsync(chunk);
        })));
        var result = await stores[0].ReadAsync(Enumerable.Range(1, entities).Select(e => Driver(e)).ToList(), ["driver_stats"]);
        for (var e = 0; e < entities; e++)
        {
            Assert.Equal((long)(versions - 1), result[e, 0]!.Values["trips"]);
            Assert.Equal(T0.AddSeconds(versions - 1), result[e, 0]!.EventTimestamp);
            Assert.Equal(T0.AddSeconds(writers - 1), result[e, 0]!.CreatedTimestamp); // the tie on event time went to the latest created
        }
    }

    [Fact]
    public async Task Rows_expire_after_the_key_ttl_and_an_older_row_may_then_be_written()
    {
        var store = await OpenAsync(keyTtl: TimeSpan.FromSeconds(2));
        await store.WriteAsync([Trips(Driver(1), T0, 1)]);
        await Eventually.TrueAsync(async () => await ReadOneAsync(store, Driver(1)) is null, "the row's expiry");
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(Driver(1), T0.AddDays(-1), 0)]));

        var lasting = await OpenAsync(keyTtl: null);
        await lasting.WriteAsync([Trips(Driver(2), T0, 2)]);
        await Task.Delay(2500);
        Assert.NotNull(await ReadOneAsync(lasting, Driver(2)));
    }

    [Fact]
    public async Task A_duplicate_event_id_is_new_once_across_instances_and_reopening()
    {
        var window = TimeSpan.FromHours(1);
        var first = await OpenAsync();
        Assert.Equal([true, true, false], await first.ClaimAndCommitAsync("rides/trips_push", ["e1", "e2", "e1"], window));
        Assert.Equal([false, true], await first.ClaimAndCommitAsync("rides/trips_push", ["e2", "e3"], window));
        var second = await OpenAsync();
        Assert.Equal([false, false, false, true], await second.ClaimAndCommitAsync("rides/trips_push", ["e1", "e2", "e3", "e4"], window));
        Assert.Equal([true], await second.ClaimAndCommitAsync("rides/other_push", ["e1"], window)); // scopes are apart
        Assert.Equal([true], await second.ClaimAndCommitAsync("rides/trips_pus", ["h:e1"], window)); // no confusion across the separator

        await first.DisposeAsync();
        await second.DisposeAsync();
        var reopened = await OpenAsync();
        Assert.Equal([false, false, false, false, true], await reopened.ClaimAndCommitAsync("rides/trips_push", ["e1", "e2", "e3", "e4", "e5"], window));

        // A released pending claim is new again; a committed one is not released.
        Assert.Equal([EventIdClaim.Claimed], await reopened.ClaimEventIdsAsync("rides/trips_push", ["e6"], "attempt-a", window));
        await reopened.ReleaseEventIdsAsync("rides/trips_push", ["e6", "e1"], "attempt-a");
        Assert.Equal([true, false], await reopened.ClaimAndCommitAsync("rides/trips_push", ["e6", "e1"], window));
    }

    [Fact]
    public async Task Only_committed_ids_are_duplicates_and_ids_pending_under_another_attempt_say_so()
    {
        var (scope, lease, window) = ("rides/trips_push", TimeSpan.FromMinutes(5), TimeSpan.FromHours(1));
        var first = await OpenAsync();
        var second = await OpenAsync();
        Assert.Equal([EventIdClaim.Claimed, EventIdClaim.Claimed, EventIdClaim.Repeated],
            await first.ClaimEventIdsAsync(scope, ["p1", "p2", "p1"], "attempt-a", lease));
        // Another attempt (another process) meets them pending: not duplicates, not its own.
        Assert.Equal([EventIdClaim.Pending, EventIdClaim.Pending, EventIdClaim.Claimed],
            await second.ClaimEventIdsAsync(scope, ["p1", "p2", "p3"], "attempt-b", lease));
        // Its release touches only its own pending ids.
        await second.ReleaseEventIdsAsync(scope, ["p1", "p2", "p3"], "attempt-b");
        Assert.Equal([EventIdClaim.Pending, EventIdClaim.Claimed], await second.ClaimEventIdsAsync(scope, ["p1", "p3"], "attempt-c", lease));

        // The owner commits p1 (its rows are stored) and releases p2 (its write failed).
        await first.CommitEventIdsAsync(scope, ["p1"], window);
        await first.ReleaseEventIdsAsync(scope, ["p2"], "attempt-a");
        Assert.Equal([EventIdClaim.Committed, EventIdClaim.Claimed], await second.ClaimEventIdsAsync(scope, ["p1", "p2"], "attempt-b", lease));
        // Claiming again for the same attempt renews its own claim.
        Assert.Equal([EventIdClaim.Claimed], await second.ClaimEventIdsAsync(scope, ["p2"], "attempt-b", lease));

        // Committed and pending claims both survive reopening.
        await first.DisposeAsync();
        var reopened = await OpenAsync();
        Assert.Equal([EventIdClaim.Committed, EventIdClaim.Pending, EventIdClaim.Pending],
            await reopened.ClaimEventIdsAsync(scope, ["p1", "p2", "p3"], "attempt-d", lease));
    }

    [Fact]
    public async Task A_pending_claim_whose_lease_lapses_is_taken_over_and_a_commit_lasts_its_window()
    {
        var scope = "rides/trips_push";
        var store = await OpenAsync();
        // An attempt that died after claiming: it neither commits nor releases.
        Assert.Equal([EventIdClaim.Claimed], await store.ClaimEventIdsAsync(scope, ["d1"], "dead-attempt", TimeSpan.FromMilliseconds(300)));
        // The retry says it takes over, so the push knows the dead attempt may have stored rows (an offline append).
        await Eventually.TrueAsync(async () => (await store.ClaimEventIdsAsync(scope, ["d1"], "retry", TimeSpan.FromMinutes(5)))[0] == EventIdClaim.TakenOver,
            "the dead attempt's lease to lapse");
        // The retry holds it now: its own renewal is a plain claim, another attempt meets it pending.
        Assert.Equal([EventIdClaim.Claimed], await store.ClaimEventIdsAsync(scope, ["d1"], "retry", TimeSpan.FromMinutes(5)));
        Assert.Equal([EventIdClaim.Pending], await store.ClaimEventIdsAsync(scope, ["d1"], "third", TimeSpan.FromMinutes(5)));
        // A released id (its attempt stored nothing) is claimed fresh, not taken over.
        Assert.Equal([EventIdClaim.Claimed], await store.ClaimEventIdsAsync(scope, ["r1"], "failed-attempt", TimeSpan.FromMinutes(5)));
        await store.ReleaseEventIdsAsync(scope, ["r1"], "failed-attempt");
        Assert.Equal([EventIdClaim.Claimed], await store.ClaimEventIdsAsync(scope, ["r1"], "retry", TimeSpan.FromMinutes(5)));
        // The retry stored the rows and commits; the committed id is a duplicate well past the first lease.
        await store.CommitEventIdsAsync(scope, ["d1"], TimeSpan.FromHours(1));
        Assert.Equal([EventIdClaim.Committed], await store.ClaimEventIdsAsync(scope, ["d1"], "later", TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Concurrent_claims_of_the_same_id_admit_exactly_one()
    {
        var stores = new[] { await OpenAsync(), await OpenAsync() };
        var ids = Enumerable.Range(0, 200).Select(i => $"event-{i}").ToArray();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(() =>
            stores[w % 2].ClaimAndCommitAsync("rides/trips_push", ids, TimeSpan.FromHours(1)))));
        for (var i = 0; i < ids.Length; i++) Assert.Equal(1, answers.Count(a => a[i]));
    }

    [Fact]
    public async Task A_claim_is_new_again_after_its_window()
    {
        var store = await OpenAsync();
        Assert.Equal([true], await store.ClaimAndCommitAsync("rides/trips_push", ["e1"], TimeSpan.FromMilliseconds(300)));
        await Eventually.TrueAsync(async () => (await store.ClaimAndCommitAsync("rides/trips_push", ["e1"], TimeSpan.FromHours(1)))[0],
            "the claim's window to pass");
    }

    [Fact]
    public async Task Deleting_a_feature_view_removes_only_its_rows_in_its_project()
    {
        var store = await OpenAsync();
        var other = EntityKey.Create("other_project", "driver_id", "1");
        await store.WriteAsync([
            Trips(Driver(1), T0, 1), Trips(Driver(2), T0, 2), Trips(Driver(1), T0, 3, view: "driver_daily"), Trips(other, T0, 4),
        ]);
        Assert.Equal(2, await store.DeleteFeatureViewAsync(Project, "driver_stats"));
        var result = await store.ReadAsync([Driver(1), Driver(2)], ["driver_stats", "driver_daily"]);
        Assert.Null(result[0, 0]);
        Assert.Null(result[1, 0]);
        Assert.Equal(3L, result[0, 1]!.Values["trips"]);
        Assert.NotNull(await ReadOneAsync(store, other));
        // After a delete, any row may be written again (nothing newer is held).
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(Driver(1), T0.AddYears(-1), 5)]));
    }

    [Fact]
    public async Task Deleting_an_entity_removes_its_rows_of_the_named_views_only()
    {
        var store = await OpenAsync();
        await store.WriteAsync([
            Trips(Driver(1), T0, 1), Trips(Driver(1), T0, 2, view: "driver_daily"), Trips(Driver(1), T0, 3, view: "driver_weekly"), Trips(Driver(2), T0, 4),
        ]);
        Assert.Equal(2, await store.DeleteEntityAsync(Driver(1), ["driver_stats", "driver_daily", "never_written"]));
        var result = await store.ReadAsync([Driver(1), Driver(2)], ["driver_stats", "driver_daily", "driver_weekly"]);
        Assert.Null(result[0, 0]);
        Assert.Null(result[0, 1]);
        Assert.Equal(3L, result[0, 2]!.Values["trips"]);
        Assert.Equal(4L, result[1, 0]!.Values["trips"]);
        Assert.Equal(0, await store.DeleteEntityAsync(Driver(1), ["driver_stats"]));
        // Erasure keeps old rows out with tombstones, not here: after a delete any row may be written again.
        Assert.Equal([OnlineWriteOutcome.Applied], await store.WriteAsync([Trips(Driver(1), T0.AddYears(-1), 5)]));
    }

    [Fact]
    public async Task A_batch_with_a_value_the_store_cannot_hold_writes_nothing()
    {
        var store = await OpenAsync();
        var bad = new OnlineRow(Driver(2), "driver_stats", T0, null, new Dictionary<string, object?> { ["trips"] = 1.5m });
        var error = await Assert.ThrowsAsync<OnlineRowSchemaException>(() => store.WriteAsync([Trips(Driver(1), T0, 1), bad]));
        Assert.Contains("driver_stats:trips", error.Message);
        Assert.Contains("rides/driver_id=2", error.Message);
        Assert.Contains("System.Decimal", error.Message);
        Assert.Null(await ReadOneAsync(store, Driver(1)));
    }

    [Fact]
    public async Task The_health_probe_answers_healthy()
    {
        var health = await (await OpenAsync()).CheckHealthAsync();
        Assert.True(health.Healthy, health.Detail);
    }

    [Fact]
    public async Task A_100k_row_batch_is_written_in_one_call()
    {
        var store = await OpenAsync();
        var rows = Enumerable.Range(0, 100_000).Select(i => new OnlineRow(Driver(i), "driver_stats", T0, null,
            new Dictionary<string, object?> { ["trips"] = (long)i, ["rating"] = 4.5, ["city"] = "Lisbon", ["active"] = true, ["last_trip"] = T0 })).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcomes = await store.WriteAsync(rows);
        clock.Stop();
        Assert.All(outcomes, o => Assert.Equal(OnlineWriteOutcome.Applied, o));
        Output.WriteLine($"{GetType().Name}: 100,000 rows x 5 features in {clock.Elapsed.TotalSeconds:0.00} s = {100_000 / clock.Elapsed.TotalSeconds:N0} rows/s");
        var sample = await store.ReadAsync([Driver(0), Driver(54_321), Driver(99_999)], ["driver_stats"]);
        Assert.Equal(54_321L, sample[1, 0]!.Values["trips"]);
        Assert.Equal(99_999L, sample[2, 0]!.Values["trips"]);
    }
}
