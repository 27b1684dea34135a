using Granary.Quality;
using Granary.Registry.Sql;

namespace Granary.Registry.Tests;

/// <summary>The quarantine table beside the registry, the same on SQLite (embedded) and PostgreSQL (cluster).</summary>
public abstract class QuarantineStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 10, 30, 0, TimeSpan.Zero);
    private readonly string _project = "q" + Guid.NewGuid().ToString("N")[..8];

    protected abstract SqlRegistryStore Store { get; }

    public async Task InitializeAsync() => await Store.InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Entries_are_numbered_listed_oldest_first_counted_and_deleted_per_project()
    {
        IQuarantineStore store = Store;
        await store.AddQuarantinedAsync(_project,
        [
            new QuarantineEntry("payments", "score.max", "payments_push", """{"account_id":"1","score":"1.5"}"""),
            new QuarantineEntry("payments", "score.min", "payments_push", """{"account_id":"2","score":"-1"}"""),
            new QuarantineEntry("scores", "segment.allowed", "materialization", """{"account_id":"9","segment":"zzz"}"""),
        ], At);
        await store.AddQuarantinedAsync("other_" + _project, [new QuarantineEntry("payments", "score.max", "payments_push", "{}")], At);

        var all = await store.ListQuarantinedAsync(_project, null, 10);
        Assert.Equal(["score.max", "score.min", "segment.allowed"], all.Select(r => r.Rule));
        Assert.True(all[0].Id < all[1].Id && all[1].Id < all[2].Id);
        Assert.Equal((At, "payments_push", """{"account_id":"1","score":"1.5"}"""), (all[0].QuarantinedAt, all[0].Source, all[0].Row));
        Assert.Equal(["score.max"], (await store.ListQuarantinedAsync(_project, "payments", 1)).Select(r => r.Rule));
        Assert.Equal([("payments", "score.max", 1L), ("payments", "score.min", 1L), ("scores", "segment.allowed", 1L)], await store.CountQuarantinedAsync(_project));

        Assert.Equal(all[2], await store.GetQuarantinedAsync(_project, all[2].Id));
        Assert.Null(await store.GetQuarantinedAsync("other_" + _project, all[2].Id));
        Assert.True(await store.DeleteQuarantinedAsync(_project, all[0].Id));
        Assert.False(await store.DeleteQuarantinedAsync(_project, all[0].Id));
        Assert.Equal(2, (await store.ListQuarantinedAsync(_project, null, 10)).Count);
        Assert.Single(await store.ListQuarantinedAsync("other_" + _project, null, 10));
    }
}

public sealed class SqliteQuarantineStoreTests : QuarantineStoreContractTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-quarantine-").FullName;
    private SqliteRegistryStore? _store;

    protected override SqlRegistryStore Store => _store ??= new SqliteRegistryStore(Path.Combine(_folder, "registry.db"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

public sealed class PostgresQuarantineStoreTests(PostgresDatabase database) : QuarantineStoreContractTests, IClassFixture<PostgresDatabase>
{
    private PostgresRegistryStore? _store;

    protected override SqlRegistryStore Store => _store ??= new PostgresRegistryStore(database.ConnectionString);

    public override async Task DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
    }
}
