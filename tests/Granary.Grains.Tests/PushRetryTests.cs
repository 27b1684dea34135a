using System.Globalization;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Online;
using Granary.Push;
using Granary.Registry;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Granary.Grains.Tests;

/// <summary>
/// What an at-least-once producer relies on: a push retried with the same event ids while an earlier attempt is still in
/// flight, or after that attempt died, is acknowledged only once every row it carries is in the online store. Rows are
/// counted independently: each test reads every pushed (driver, value) back from the online store itself.
/// </summary>
public abstract class PushRetryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int LargePush = 20_000;
    private static readonly DateTimeOffset At = new(2024, 1, 1, 1, 0, 0, TimeSpan.Zero);
    private readonly string _root = Directory.CreateTempSubdirectory("granary-push-retry-").FullName;
    private readonly string _project = "q" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The cluster under test.</summary>
    protected ThreeSiloCluster Cluster { get; private set; } = null!;

    /// <summary>Output for figures.</summary>
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>The granary.yaml online_store section (a store the subclass may start first).</summary>
    protected abstract Task<string> StartOnlineStoreAsync();

    /// <summary>Stops what <see cref="StartOnlineStoreAsync"/> started.</summary>
    protected virtual Task StopOnlineStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var yaml = await StartOnlineStoreAsync();
        // A short lease, so a retry meets the lapsed claims of a dead attempt within the test's time.
        Cluster = await ThreeSiloCluster.StartAsync(_root, $"project: {_project}\n{yaml}",
            silo => silo.Services.Configure<PushOptions>(o => o.ClaimLease = TimeSpan.FromSeconds(10)));
        PushTests.WriteHistory(_root);
        await Cluster.Grains.GetGrain<IRegistryGrain>(_project).ApplyAsync(new ApplyRequest(PushTests.Definitions(_project), ExpectedVersion: 0, Force: false));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await StopOnlineStoreAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_large_push_resent_while_the_first_attempt_is_in_flight_is_acknowledged_only_once_its_rows_are_stored()
    {
        var batch = Batch("race", 1_000_000, LargePush);
        // The producer's first attempt and its retry (same ids) through two silos; each answer is checked the moment it arrives.
        var attempts = new[] { Push(0, batch), Push(1, batch) }.Select(async push =>
        {
            var result = await push;
            return (result, missing: await MissingAsync(batch));
        });
        var answers = await Task.WhenAll(attempts);
        foreach (var (result, missing) in answers)
        {
            Output.WriteLine($"acknowledged {result}; rows not readable right after: {missing}");
            Assert.Equal(LargePush, result.RowsReceived);
            Assert.Equal(0, missing);
        }
        // Every row was stored by one attempt or the other, and a third send is all duplicates.
        Assert.True(answers.Sum(a => a.result.RowsAccepted) >= LargePush);
        Assert.Equal(LargePush, (await Push(2, batch)).DuplicatesDropped);
    }

    [Fact]
    public async Task A_retry_of_a_push_whose_attempt_died_after_claiming_waits_for_its_lease_and_stores_every_row()
    {
        var batch = Batch("dead", 2_000_000, 2_000);
        // The state a silo killed right after its claim leaves: the ids pending under an attempt that never finishes.
        var store = Cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<IOnlineStore>();
        var ids = batch.Rows.Select(r => (string)r[^1]!).ToList();
        Assert.All(await store.ClaimEventIdsAsync($"{_project}/driver_stats_push", ids, "killed-attempt", TimeSpan.FromSeconds(3)),
            c => Assert.Equal(EventIdClaim.Claimed, c));

        var retry = await Push(1, batch);
        Assert.Equal(new PushResult(2_000, 2_000, 0, 0, 2_000, 0), retry);
        Assert.Equal(0, await MissingAsync(batch));
        Assert.Equal(2_000, (await Push(2, batch)).DuplicatesDropped);
    }

    [Fact]
    public async Task A_retry_that_takes_over_from_an_attempt_that_appended_offline_and_died_before_its_commit_stores_each_row_once()
    {
        var batch = Batch("appended", 3_000_000, 500) with { To = PushMode.OnlineAndOffline };
        // The state a silo killed between its offline append and its commit leaves: the ids pending under its attempt, and
        // the rows in the batch source. The rows are appended exactly as the push grain appends them.
        var silo = Cluster.Cluster.Silos[0].ServiceProvider;
        var ids = batch.Rows.Select(r => (string)r[^1]!).ToList();
        Assert.All(await silo.GetRequiredService<IOnlineStore>().ClaimEventIdsAsync($"{_project}/driver_stats_push", ids, "killed-attempt", TimeSpan.FromSeconds(3)),
            c => Assert.Equal(EventIdClaim.Claimed, c));
        var snapshot = await Cluster.Grains.GetGrain<IRegistryGrain>(_project).GetSnapshotAsync();
        var pushed = PushValidator.Validate(PushPlan.For(snapshot, "driver_stats_push"), new PushBatch(batch.Columns, batch.Rows), PushOptions.DefaultEventIdColumn);
        var source = snapshot.DataSources.Single(d => d.Name == "driver_stats_batch");
        var offline = silo.GetServices<IOfflineStore>().First(s => s.CanRead(source));
        Assert.Equal(500, await offline.AppendRowsAsync(source, pushed.OfflineRows(Enumerable.Range(0, 500).ToList())));
        // Plus one row of the batch that the dead attempt never reached: the retry must add it.
        var extra = Batch("appended", 3_000_000, 501) with { To = PushMode.OnlineAndOffline };

        var retry = await Push(1, extra);
        Assert.Equal(501, retry.RowsAccepted);
        Assert.Equal(1, retry.OfflineRowsAppended);
        Assert.Equal(0, await MissingAsync(extra));
        Assert.Equal(Enumerable.Range(0, 501).Select(i => (3_000_000L + i, 1)), OfflineCounts(3_000_000, 3_000_500));
        Assert.Equal(501, (await Push(2, extra)).DuplicatesDropped);
    }

    /// <summary>Per driver in [first, last], how many offline rows the batch source holds.</summary>
    private List<(long Driver, int Rows)> OfflineCounts(long first, long last)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT driver_id::BIGINT, count(*)::INTEGER FROM read_parquet('{Path.Combine(_root, "data", "driver_stats", "**", "*.parquet")}', union_by_name = true) " +
                              $"WHERE driver_id BETWEEN {first} AND {last} GROUP BY ALL ORDER BY 1";
        using var reader = command.ExecuteReader();
        var counts = new List<(long, int)>();
        while (reader.Read()) counts.Add((reader.GetInt64(0), reader.GetInt32(1)));
        return counts;
    }

    /// <summary>Sends a push as a producer does, through the cluster's client (so errors cross the grain boundary).</summary>
    protected Task<PushResult> Push(int via, PushRequest batch)
    {
        var grains = via == 0 ? Cluster.Grains : Cluster.Cluster.Silos[via].ServiceProvider.GetRequiredService<IGrainFactory>();
        return grains.GetGrain<IPushGrain>($"{_project}/driver_stats_push").PushAsync(batch);
    }

    /// <summary>Rows of drivers <paramref name="firstDriver"/>.. with trips = the row's number and event ids <c>prefix-n</c>.</summary>
    protected static PushRequest Batch(string prefix, long firstDriver, int count)
        => new(PushTests.Columns, Enumerable.Range(0, count).Select(i => new object?[]
        {
            (firstDriver + i).ToString(CultureInfo.InvariantCulture), At.ToString("O"), null, "0.5", i.ToString(CultureInfo.InvariantCulture), $"{prefix}-{i}",
        }).ToArray(), PushMode.Online);

    /// <summary>How many rows of <paramref name="batch"/> the online store does not hold (read straight from the store).</summary>
    protected async Task<int> MissingAsync(PushRequest batch)
    {
        var store = Cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<IOnlineStore>();
        var entities = batch.Rows.Select(r => EntityKey.Create(_project, "driver_id", (string)r[0]!)).ToList();
        var read = await store.ReadAsync(entities, ["driver_stats"]);
        var missing = 0;
        for (var e = 0; e < entities.Count; e++)
        {
            var expected = long.Parse((string)batch.Rows[e][4]!, CultureInfo.InvariantCulture);
            if (read[e, 0] is not { } row || !Equals(row.Values["trips"], expected)) missing++;
        }
        return missing;
    }
}

/// <summary>On the embedded default's SQLite online store.</summary>
public sealed class SqlitePushRetryTests(ITestOutputHelper output) : PushRetryTests(output)
{
    /// <inheritdoc/>
    protected override Task<string> StartOnlineStoreAsync() => Task.FromResult("online_store:\n  type: sqlite\n  path: data/online.db\n");
}

/// <summary>
/// On a redis-server of the test's own (AOF fsynced on every write), so the test can SIGKILL it while a push and its
/// retry are in flight.
/// </summary>
public sealed class RedisPushRetryTests(ITestOutputHelper output) : PushRetryTests(output)
{
    private readonly PrivateRedis _redis = new();

    /// <inheritdoc/>
    protected override async Task<string> StartOnlineStoreAsync()
    {
        await _redis.StartAsync();
        // Timeouts long enough for a 20,000-id claim on a loaded machine, short enough that a dead server fails calls fast.
        return $"online_store:\n  type: redis\n  connection_string: \"127.0.0.1:{_redis.Port},connectTimeout=2000,asyncTimeout=5000,syncTimeout=5000,connectRetry=1\"\n";
    }

    /// <inheritdoc/>
    protected override async Task StopOnlineStoreAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task Every_acknowledged_row_is_stored_when_redis_is_killed_while_a_large_push_and_its_retry_are_in_flight()
    {
        var batch = Batch("crash", 3_000_000, 20_000);
        var attempts = new[] { Push(0, batch), Push(1, batch) };
        // Redis dies as soon as one attempt is answered: the other is still in flight (writing, or waiting for the first).
        await Task.WhenAny(attempts);
        await _redis.KillAsync();
        await _redis.StartAsync();

        // The producer retries every attempt that was not acknowledged until one is; failures must be Granary's typed error.
        for (var a = 0; a < attempts.Length; a++)
        {
            try
            {
                Output.WriteLine($"attempt {a}: acknowledged {await attempts[a]}");
                continue;
            }
            catch (OnlineStoreUnavailableException e)
            {
                Output.WriteLine($"attempt {a}: {e.Message}");
            }
            await Until.HoldsAsync(async () => (await Push(a, batch)).RowsReceived == batch.Rows.Length, $"attempt {a}'s retry to be acknowledged");
        }
        var missing = -1;
        await Until.HoldsAsync(async () => { missing = await MissingAsync(batch); return true; }, "the online store to answer a read");
        Assert.Equal(0, missing);
    }
}
