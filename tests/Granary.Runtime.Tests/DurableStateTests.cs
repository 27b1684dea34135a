using Granary.Persistence.Redis;
using Granary.Persistence.Sqlite;

namespace Granary.Runtime.Tests;

/// <summary>Grain state written through a durable provider survives a whole silo restart, not just a deactivation.</summary>
public sealed class DurableStateTests
{
    [Fact]
    public async Task Counter_state_in_SQLite_survives_a_silo_restart()
    {
        var path = Path.Combine(Path.GetTempPath(), $"granary-durable-{Guid.NewGuid():N}.db");
        try
        {
            await AssertSurvivesRestart(silo => silo.AddSqliteGrainStorage("Default", o => o.ConnectionString = $"Data Source={path}"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
                if (File.Exists(file)) File.Delete(file);
        }
    }

    [Fact]
    public async Task Counter_state_in_Redis_survives_a_silo_restart()
    {
        var prefix = "granary-test-" + Guid.NewGuid().ToString("N");
        await AssertSurvivesRestart(silo => silo.AddRedisGrainStorage("Default", o =>
        {
            o.ConnectionString = TestServers.Redis;
            o.KeyPrefix = prefix;
            o.EntryExpiry = TimeSpan.FromMinutes(5);
        }));
    }

    private static async Task AssertSurvivesRestart(Action<ISiloBuilder> storage)
    {
        var key = Guid.NewGuid().ToString();
        await using (var first = await TestSilo.StartAsync(storage, defaultStorage: false))
        {
            var counter = first.Grains.GetGrain<ICounterGrain>(key);
            await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => counter.Add(2)));
        }
        await using var second = await TestSilo.StartAsync(storage, defaultStorage: false);
        Assert.Equal(50, await second.Grains.GetGrain<ICounterGrain>(key).Get());
    }
}
