using Granary.Clustering.PostgreSql;
using Granary.Runtime.Cluster.Membership;

namespace Granary.Cluster.Tests;

/// <summary>The membership-table contract every implementation must honour (after Orleans' MembershipTableTestsBase).</summary>
public abstract class MembershipTableContractTests
{
    protected abstract IMembershipTable CreateTable(string clusterId);

    private async Task<IMembershipTable> NewTableAsync()
    {
        var table = CreateTable("c" + Guid.NewGuid().ToString("N")[..8]);
        await table.InitializeAsync();
        return table;
    }

    private static int s_port = 20000;

    private static MembershipEntry NewEntry(SiloStatus status = SiloStatus.Joining)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return new MembershipEntry
        {
            Silo = new SiloAddress("127.0.0.1", Interlocked.Increment(ref s_port), now.ToUnixTimeMilliseconds()),
            SiloName = "silo-under-test",
            HostName = "test-host",
            Status = status,
            StartTime = now,
            IAmAliveTime = now,
        };
    }

    [Fact]
    public async Task A_new_table_is_empty_at_version_zero()
    {
        var table = await NewTableAsync();
        var data = await table.ReadAllAsync();
        Assert.Empty(data.Rows);
        Assert.Equal(0, data.Version.Version);
    }

    [Fact]
    public async Task InsertRow_adds_the_row_and_bumps_the_version()
    {
        var table = await NewTableAsync();
        var entry = NewEntry();
        var before = await table.ReadAllAsync();
        Assert.True(await table.InsertRowAsync(entry, before.Version.Next()));

        var after = await table.ReadAllAsync();
        Assert.Equal(1, after.Version.Version);
        var row = Assert.Single(after.Rows);
        Assert.Equal(entry.Silo, row.Entry.Silo);
        Assert.Equal(SiloStatus.Joining, row.Entry.Status);
        Assert.Equal(entry.StartTime, row.Entry.StartTime);
        Assert.Equal("silo-under-test", row.Entry.SiloName);
    }

    [Fact]
    public async Task InsertRow_fails_on_a_stale_version_or_an_existing_row()
    {
        var table = await NewTableAsync();
        var entry = NewEntry();
        var start = await table.ReadAllAsync();
        Assert.True(await table.InsertRowAsync(entry, start.Version.Next()));

        Assert.False(await table.InsertRowAsync(NewEntry(), start.Version.Next()));
        var now = await table.ReadAllAsync();
        Assert.False(await table.InsertRowAsync(entry, now.Version.Next()));
        Assert.Single((await table.ReadAllAsync()).Rows);
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task UpdateRow_replaces_the_row_when_etag_and_version_match_and_fails_otherwise()
    {
        var table = await NewTableAsync();
        var entry = NewEntry();
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var read = await table.ReadAllAsync();
        var row = read.Find(entry.Silo)!.Value;

        var voter = NewEntry().Silo;
        var vote = new SuspectVote(voter, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var active = row.Entry with { Status = SiloStatus.Active, SuspectTimes = [vote] };
        Assert.True(await table.UpdateRowAsync(active, row.ETag, read.Version.Next()));

        var after = await table.ReadAllAsync();
        var updated = after.Find(entry.Silo)!.Value;
        Assert.Equal(SiloStatus.Active, updated.Entry.Status);
        Assert.Equal([vote], updated.Entry.SuspectTimes);
        Assert.Equal(read.Version.Version + 1, after.Version.Version);
        Assert.NotEqual(row.ETag, updated.ETag);

        // The old row ETag no longer matches, even with a current table version.
        Assert.False(await table.UpdateRowAsync(active with { Status = SiloStatus.Dead }, row.ETag, after.Version.Next()));
        // The old table version no longer matches, even with the current row ETag.
        Assert.False(await table.UpdateRowAsync(active with { Status = SiloStatus.Dead }, updated.ETag, read.Version.Next()));
        Assert.Equal(SiloStatus.Active, (await table.ReadAllAsync()).Find(entry.Silo)!.Value.Entry.Status);
    }

    [Fact]
    public async Task Parallel_updates_from_the_same_read_have_exactly_one_winner()
    {
        var table = await NewTableAsync();
        var entry = NewEntry();
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var read = await table.ReadAllAsync();
        var row = read.Find(entry.Silo)!.Value;

        var attempts = Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            table.UpdateRowAsync(row.Entry with { SiloName = "writer-" + i }, row.ETag, read.Version.Next())));
        var results = await Task.WhenAll(attempts);

        Assert.Equal(1, results.Count(r => r));
        var after = await table.ReadAllAsync();
        Assert.Equal(read.Version.Version + 1, after.Version.Version);
        var winner = Array.IndexOf(results, true);
        Assert.Equal("writer-" + winner, after.Find(entry.Silo)!.Value.Entry.SiloName);
    }

    [Fact]
    public async Task UpdateIAmAlive_writes_only_the_timestamp_without_a_version_bump()
    {
        var table = await NewTableAsync();
        var entry = NewEntry(SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        var later = entry.IAmAliveTime.AddSeconds(42);
        await table.UpdateIAmAliveAsync(entry with { IAmAliveTime = later, Status = SiloStatus.Dead });

        var after = await table.ReadAllAsync();
        var row = after.Find(entry.Silo)!.Value;
        Assert.Equal(later, row.Entry.IAmAliveTime);
        Assert.Equal(SiloStatus.Active, row.Entry.Status);
        Assert.Equal(before.Version.Version, after.Version.Version);
        // A blind write leaves the row ETag usable for the next compare-and-set.
        Assert.True(await table.UpdateRowAsync(row.Entry with { Status = SiloStatus.ShuttingDown }, row.ETag, after.Version.Next()));
    }

    [Fact]
    public async Task Cleanup_removes_only_old_dead_rows()
    {
        var table = await NewTableAsync();
        var old = NewEntry(SiloStatus.Dead) with { IAmAliveTime = DateTimeOffset.UtcNow.AddDays(-8) };
        var alive = NewEntry(SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(old, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(alive, (await table.ReadAllAsync()).Version.Next()));

        Assert.Equal(1, await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-7)));

        var row = Assert.Single((await table.ReadAllAsync()).Rows);
        Assert.Equal(alive.Silo, row.Entry.Silo);
    }

    [Fact]
    public async Task Clusters_sharing_the_storage_do_not_see_each_other()
    {
        var first = await NewTableAsync();
        var second = await NewTableAsync();
        Assert.True(await first.InsertRowAsync(NewEntry(), (await first.ReadAllAsync()).Version.Next()));
        Assert.Empty((await second.ReadAllAsync()).Rows);
    }
}

public sealed class InMemoryMembershipTableTests : MembershipTableContractTests
{
    protected override IMembershipTable CreateTable(string clusterId) => new InMemoryMembershipTable();
}

public sealed class PostgreSqlMembershipTableTests(TestDatabase database) : MembershipTableContractTests, IClassFixture<TestDatabase>
{
    protected override IMembershipTable CreateTable(string clusterId) => new PostgreSqlMembershipTable(database.ConnectionString, clusterId);
}
