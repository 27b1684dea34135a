using Granary.Persistence.Redis;
using Granary.Persistence.Sqlite;
using Granary.Runtime.Storage;

namespace Granary.Runtime.Tests;

/// <summary>The behaviour every <see cref="IGrainStorage"/> must have; run against each provider below.</summary>
public abstract class StorageContractTests
{
    protected abstract IGrainStorage Storage { get; }

    private static GrainId NewGrain() => new("contract.grain", Guid.NewGuid().ToString());

    private sealed class Profile
    {
        public string Name { get; set; } = "";
        public List<int> Scores { get; set; } = [];
        public DateTimeOffset Seen { get; set; }
    }

    private sealed class StateHolder<T> : IGrainState<T> where T : new()
    {
        public T State { get; set; } = new();
        public string? ETag { get; set; }
        public bool RecordExists { get; set; }
    }

    [Fact]
    public async Task Reading_a_missing_state_gives_a_new_value_and_no_etag()
    {
        var state = new StateHolder<Profile> { State = new Profile { Name = "stale" }, ETag = "x", RecordExists = true };
        await Storage.ReadStateAsync("profile", NewGrain(), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal("", state.State.Name);
    }

    [Fact]
    public async Task A_written_state_reads_back_with_the_same_etag()
    {
        var grain = NewGrain();
        var seen = new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.FromHours(2));
        var written = new StateHolder<Profile> { State = new Profile { Name = "ana", Scores = [1, 2, 3], Seen = seen } };
        await Storage.WriteStateAsync("profile", grain, written);
        Assert.NotNull(written.ETag);
        Assert.True(written.RecordExists);

        var read = new StateHolder<Profile>();
        await Storage.ReadStateAsync("profile", grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal("ana", read.State.Name);
        Assert.Equal([1, 2, 3], read.State.Scores);
        Assert.Equal(seen, read.State.Seen);

        var other = new StateHolder<Profile>();
        await Storage.ReadStateAsync("other-state", grain, other);
        Assert.False(other.RecordExists);
    }

    [Fact]
    public async Task Each_write_changes_the_etag_and_a_stale_etag_is_refused()
    {
        var grain = NewGrain();
        var writer = new StateHolder<Profile> { State = new Profile { Name = "v1" } };
        await Storage.WriteStateAsync("profile", grain, writer);
        var first = writer.ETag;
        writer.State.Name = "v2";
        await Storage.WriteStateAsync("profile", grain, writer);
        Assert.NotEqual(first, writer.ETag);

        var stale = new StateHolder<Profile> { State = new Profile { Name = "lost" }, ETag = first };
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("profile", grain, stale));
        Assert.Equal(writer.ETag, error.StoredEtag);
        Assert.Equal(first, error.CurrentEtag);
        Assert.Contains("ReadStateAsync", error.Message);

        var fresh = new StateHolder<Profile> { State = new Profile { Name = "insert" } };
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("profile", grain, fresh));

        var read = new StateHolder<Profile>();
        await Storage.ReadStateAsync("profile", grain, read);
        Assert.Equal("v2", read.State.Name);
    }

    [Fact]
    public async Task Two_writers_with_the_same_etag_exactly_one_wins()
    {
        for (var round = 0; round < 5; round++)
        {
            var grain = NewGrain();
            var seed = new StateHolder<Profile> { State = new Profile { Name = "seed" } };
            await Storage.WriteStateAsync("profile", grain, seed);
            var writers = Enumerable.Range(0, 2)
                .Select(i => new StateHolder<Profile> { State = new Profile { Name = "writer" + i }, ETag = seed.ETag })
                .ToArray();

            var outcomes = await Task.WhenAll(writers.Select(async w =>
            {
                try
                {
                    await Storage.WriteStateAsync("profile", grain, w);
                    return true;
                }
                catch (InconsistentStateException)
                {
                    return false;
                }
            }));

            Assert.Equal(1, outcomes.Count(won => won));
            var read = new StateHolder<Profile>();
            await Storage.ReadStateAsync("profile", grain, read);
            Assert.Equal(writers[Array.IndexOf(outcomes, true)].State.Name, read.State.Name);
        }
    }

    [Fact]
    public async Task Clearing_removes_the_record_and_checks_the_etag()
    {
        var grain = NewGrain();
        var state = new StateHolder<Profile> { State = new Profile { Name = "x" } };
        await Storage.WriteStateAsync("profile", grain, state);
        var stale = new StateHolder<Profile> { ETag = "not-the-etag" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync("profile", grain, stale));

        await Storage.ClearStateAsync("profile", grain, state);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
        var read = new StateHolder<Profile>();
        await Storage.ReadStateAsync("profile", grain, read);
        Assert.False(read.RecordExists);

        // After a clear, a new record can be written from scratch.
        await Storage.WriteStateAsync("profile", grain, new StateHolder<Profile> { State = new Profile { Name = "again" } });
    }
}

public sealed class MemoryStorageContractTests : StorageContractTests
{
    protected override IGrainStorage Storage { get; } = new MemoryGrainStorage("memory");
}

public sealed class SqliteStorageContractTests : StorageContractTests, IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"granary-storage-{Guid.NewGuid():N}.db");

    public SqliteStorageContractTests()
        => Storage = new SqliteGrainStorage("sqlite", new SqliteGrainStorageOptions { ConnectionString = $"Data Source={_path}" });

    protected override IGrainStorage Storage { get; }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
            if (File.Exists(file)) File.Delete(file);
    }
}

public sealed class RedisStorageContractTests : StorageContractTests, IDisposable
{
    private readonly RedisGrainStorage _storage;

    public RedisStorageContractTests()
        => _storage = new RedisGrainStorage("redis", new RedisGrainStorageOptions
        {
            ConnectionString = TestServers.Redis,
            // A prefix per test instance: teammates share this Redis server.
            KeyPrefix = "granary-test-" + Guid.NewGuid().ToString("N"),
            // Keys expire on their own, so a shared server does not collect test leftovers.
            EntryExpiry = TimeSpan.FromMinutes(5),
        });

    protected override IGrainStorage Storage => _storage;

    public void Dispose() => _storage.Dispose();
}

/// <summary>The real servers the tests use (started by deploy/test-services.sh).</summary>
public static class TestServers
{
    public static string Redis => Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") is { Length: > 0 } redis
        ? redis
        : throw new InvalidOperationException(
            "GRANARY_TEST_REDIS is not set. Start the test servers with `deploy/test-services.sh start` and export its output " +
            "(eval \"$(deploy/test-services.sh env)\").");
}
