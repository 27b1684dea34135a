using Granary.Clustering.PostgreSql;
using Granary.Runtime;
using Granary.Runtime.Cluster.Reminders;

namespace Granary.Cluster.Tests;

public abstract class ReminderTableContractTests
{
    protected abstract IReminderTable CreateTable(string clusterId);

    private async Task<IReminderTable> NewTableAsync()
    {
        var table = CreateTable("r" + Guid.NewGuid().ToString("N")[..8]);
        await table.InitializeAsync();
        return table;
    }

    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task Upsert_then_read_returns_the_reminder_and_a_second_upsert_replaces_it()
    {
        var table = await NewTableAsync();
        var grain = new GrainId("counter", "a");
        var first = await table.UpsertRowAsync(new ReminderEntry(grain, "tick", Start, TimeSpan.FromMinutes(1)));
        var second = await table.UpsertRowAsync(new ReminderEntry(grain, "tick", Start.AddHours(1), TimeSpan.FromMinutes(5)));
        Assert.NotEqual(first, second);

        var row = await table.ReadRowAsync(grain, "tick");
        Assert.NotNull(row);
        Assert.Equal(Start.AddHours(1), row.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(5), row.Period);
        Assert.Equal(second, row.ETag);
        Assert.Single(await table.ReadAllAsync());
        Assert.Null(await table.ReadRowAsync(grain, "other"));
    }

    [Fact]
    public async Task Remove_needs_the_current_etag()
    {
        var table = await NewTableAsync();
        var grain = new GrainId("counter", "b");
        var old = await table.UpsertRowAsync(new ReminderEntry(grain, "tick", Start, TimeSpan.FromMinutes(1)));
        var current = await table.UpsertRowAsync(new ReminderEntry(grain, "tick", Start, TimeSpan.FromMinutes(2)));

        Assert.False(await table.RemoveRowAsync(grain, "tick", old));
        Assert.True(await table.RemoveRowAsync(grain, "tick", current));
        Assert.Empty(await table.ReadAllAsync());
    }

    [Fact]
    public void Next_tick_is_aligned_on_the_start_and_period()
    {
        var entry = new ReminderEntry(new GrainId("g", "k"), "r", Start, TimeSpan.FromSeconds(10));
        Assert.Equal(Start, entry.NextTickAtOrAfter(Start.AddSeconds(-5)));
        Assert.Equal(Start.AddSeconds(30), entry.NextTickAtOrAfter(Start.AddSeconds(21)));
        Assert.Equal(Start.AddSeconds(30), entry.NextTickAtOrAfter(Start.AddSeconds(30)));
    }
}

public sealed class InMemoryReminderTableTests : ReminderTableContractTests
{
    protected override IReminderTable CreateTable(string clusterId) => new InMemoryReminderTable();
}

public sealed class PostgreSqlReminderTableTests(TestDatabase database) : ReminderTableContractTests, IClassFixture<TestDatabase>
{
    protected override IReminderTable CreateTable(string clusterId) => new PostgreSqlReminderTable(database.ConnectionString, clusterId);
}
