using Granary.Online.Redis;
using Granary.Online.Sqlite;
using StackExchange.Redis;
using Xunit.Abstractions;
using static Granary.Online.Tests.TestRows;

namespace Granary.Online.Tests;

/// <summary>The online store contract on the shared test Redis (GRANARY_TEST_REDIS), under a key prefix of its own per test.</summary>
public sealed class RedisOnlineStoreContractTests(ITestOutputHelper output) : OnlineStoreContract(output)
{
    private readonly string _prefix = $"granary-test:{Guid.NewGuid():N}:";

    internal static string Configuration
        => (Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") is { Length: > 0 } r ? r : "127.0.0.1:16379")
           + ",connectTimeout=5000,asyncTimeout=30000";

    /// <inheritdoc/>
    protected override async Task<IOnlineStore> OpenStoreAsync(TimeSpan? keyTtl)
        => await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Configuration, KeyPrefix = _prefix, KeyTtl = keyTtl });

    /// <inheritdoc/>
    protected override async Task CleanUpAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Configuration);
        var db = redis.GetDatabase();
        foreach (var endpoint in redis.GetEndPoints())
            await foreach (var key in redis.GetServer(endpoint).KeysAsync(pattern: _prefix + "*", pageSize: 1000))
                await db.KeyDeleteAsync(key);
    }

    [Fact]
    public async Task One_entity_is_one_hash_tagged_key_holding_all_its_views()
    {
        var store = await OpenAsync();
        await store.WriteAsync([Trips(Driver(7), T0, 1), Trips(Driver(7), T0, 2, view: "driver_daily")]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Configuration);
        var key = _prefix + "{rides/driver_id=7}";
        Assert.Equal(key, ((RedisOnlineStore)store).HashKeyOf(Driver(7)).ToString());
        var fields = (await redis.GetDatabase().HashKeysAsync(key)).Select(f => f.ToString()).Order(StringComparer.Ordinal);
        Assert.Equal(["t:driver_daily", "t:driver_stats", "v:driver_daily", "v:driver_stats"], fields);
    }

    [Fact]
    public async Task A_prefix_with_a_brace_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = Configuration, KeyPrefix = "app{1}:" }));
        Assert.Contains("'app{1}:'", error.Message);
    }
}

/// <summary>The online store contract on a real SQLite file of its own per test.</summary>
public sealed class SqliteOnlineStoreContractTests(ITestOutputHelper output) : OnlineStoreContract(output)
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"granary-online-{Guid.NewGuid():N}");

    /// <inheritdoc/>
    protected override async Task<IOnlineStore> OpenStoreAsync(TimeSpan? keyTtl)
        => await SqliteOnlineStore.OpenAsync(new SqliteOnlineStoreOptions { Path = Path.Combine(_folder, "data", "online.db"), KeyTtl = keyTtl });

    /// <inheritdoc/>
    protected override Task CleanUpAsync()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_file_is_in_wal_mode()
    {
        await OpenAsync();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_folder, "data", "online.db")}");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_file_made_before_two_phase_claims_keeps_its_claims_as_committed()
    {
        // The event-id table as stores before two-phase claims made it, with one live claim.
        var path = Path.Combine(_folder, "data", "online.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"""
                CREATE TABLE online_event_ids (scope TEXT NOT NULL, event_id TEXT NOT NULL, expires_us INTEGER NOT NULL, PRIMARY KEY (scope, event_id)) WITHOUT ROWID;
                INSERT INTO online_event_ids VALUES ('rides/trips_push', 'old-1', {OnlineTime.ToMicros(DateTimeOffset.UtcNow.AddHours(1))});
                """;
            await cmd.ExecuteNonQueryAsync();
        }
        var store = await OpenAsync();
        Assert.Equal([EventIdClaim.Committed, EventIdClaim.Claimed],
            await store.ClaimEventIdsAsync("rides/trips_push", ["old-1", "new-1"], "attempt-a", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task A_file_that_cannot_be_opened_is_the_retriable_error_naming_the_path()
    {
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, "is-a-folder");
        Directory.CreateDirectory(path);
        var error = await Assert.ThrowsAsync<OnlineStoreUnavailableException>(() => SqliteOnlineStore.OpenAsync(new SqliteOnlineStoreOptions { Path = path }));
        Assert.Contains(path, error.Message);
        Assert.True(error.IsRetriable);
        Assert.NotNull(error.Hint);
    }
}
