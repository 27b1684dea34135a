using System.Diagnostics;
using Granary.Cli;
using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Transforms;

namespace Granary.Registry.Tests;

/// <summary>
/// The registry grain on a real three-silo Orleans cluster over one SQLite registry: applies, long polls, per-silo caches,
/// transforms, and writers outside the cluster (the CLI applies without a silo). Each test uses a project of its own.
/// </summary>
public sealed class RegistryGrainTests(RegistryTestCluster cluster) : IClassFixture<RegistryTestCluster>
{
    private readonly string _project = RegistryTestCluster.NewProject();

    private IRegistryGrain Registry(int silo) => cluster.GrainsOf(silo).GetGrain<IRegistryGrain>(_project);

    private RegistrySnapshot Sample() => cluster.Repository.Load().ToSnapshot();

    [Fact]
    public async Task A_waiting_reader_learns_of_a_new_version_as_soon_as_it_is_applied()
    {
        var grain = Registry(0);
        Assert.Equal(0, (await grain.GetSnapshotAsync()).Version);
        var waiting = grain.WaitForVersionAfterAsync(0, TimeSpan.FromSeconds(20));
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);

        await grain.ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var clock = Stopwatch.StartNew();
        var seen = await waiting;
        clock.Stop();

        // Woken by the apply itself, not by the end of its 20 s wait.
        Assert.Equal(1, seen!.Version);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed} after the apply returned");
    }

    [Fact]
    public async Task A_long_poll_with_nothing_new_returns_null_after_its_wait()
    {
        var grain = Registry(0);
        await grain.ApplyAsync(new ApplyRequest(Sample(), 0, false));
        Assert.Null(await grain.WaitForVersionAfterAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, (await grain.WaitForVersionAfterAsync(0, TimeSpan.FromSeconds(10)))!.Version);
    }

    [Fact]
    public async Task The_silo_registry_cache_follows_new_versions_without_a_fixed_wait()
    {
        // Silo 2's cache follows a grain that an apply through silo 1 changes.
        var cache = cluster.ServiceOf<RegistryCache>(2);
        Assert.Equal(0, (await cache.GetAsync(_project)).Version);

        await Registry(1).ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var clock = Stopwatch.StartNew();
        var snapshot = await cache.WaitForVersionAsync(_project, 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, snapshot.Version);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cache took {clock.Elapsed}");
        Assert.Equal(1, (await cache.GetAsync(_project)).Version);
    }

    [Fact]
    public async Task Concurrent_applies_through_two_silos_have_one_winner_and_the_loser_gets_a_conflict()
    {
        await Registry(0).ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var a = Sample() with { Entities = [.. Sample().Entities.Select(e => e with { Description = "from silo 1" })] };
        var b = Sample() with { Entities = [.. Sample().Entities.Select(e => e with { Description = "from silo 2" })] };

        var results = await Task.WhenAll(
            Capture(() => Registry(0).ApplyAsync(new ApplyRequest(a, 1, false))),
            Capture(() => Registry(1).ApplyAsync(new ApplyRequest(b, 1, false))));

        Assert.Single(results, r => r.Result is not null);
        var loser = Assert.Single(results, r => r.Error is not null).Error!;
        Assert.IsType<RegistryConflictException>(loser);
        Assert.Contains("is at version 2, not 1", loser.Message);
        var winner = results[0].Result is not null ? a : b;
        Assert.Equal(RegistryJson.DefinitionsOf(winner), RegistryJson.DefinitionsOf(await Registry(0).GetVersionAsync(2)));
        Assert.Equal(2, (await Registry(1).GetSnapshotAsync()).Version);
        Assert.Equal(2, (await cluster.Client.GetGrain<IRegistryGrain>(_project).GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task A_transform_applied_once_gives_the_same_outputs_in_both_silos()
    {
        await Registry(0).ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var snapshot1 = await Registry(0).GetSnapshotAsync();
        var snapshot2 = await Registry(1).GetVersionAsync(1);
        var t1 = cluster.ServiceOf<TransformCatalog>(0).GetTransform(snapshot1, "transformed_conv_rate");
        var t2 = cluster.ServiceOf<TransformCatalog>(1).GetTransform(snapshot2, "transformed_conv_rate");

        Assert.NotSame(t1, t2);
        for (var i = 0; i < 50; i++)
        {
            var (r1, r2) = (Row(i), Row(i));
            t1.Transform(r1);
            t2.Transform(r2);
            Assert.Equal(r1["conv_rate_plus_val1"], r2["conv_rate_plus_val1"]);
            Assert.Equal(r1["conv_rate_plus_val2"], r2["conv_rate_plus_val2"]);
        }
        var sample = Row(3);
        t1.Transform(sample);
        Assert.Equal((double)(0.03f) + 3, sample["conv_rate_plus_val1"]);
    }

    [Fact]
    public async Task Materialization_intervals_recorded_through_the_grain_show_in_its_snapshot()
    {
        var grain = Registry(0);
        await grain.ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var start = DateTimeOffset.Parse("2026-02-01T00:00:00Z");
        await grain.RecordMaterializationIntervalAsync("driver_hourly_stats", start, start.AddDays(1));

        var snapshot = await grain.GetSnapshotAsync();
        var interval = Assert.Single(snapshot.MaterializationIntervals["driver_hourly_stats"]);
        Assert.Equal((start, start.AddDays(1)), (interval.Start, interval.End));
        Assert.Equal(1, snapshot.Version);
    }

    [Fact]
    public async Task A_version_written_outside_the_cluster_reaches_waiting_readers_and_blocks_a_stale_apply()
    {
        var grain = Registry(0);
        Assert.Equal(0, (await grain.GetSnapshotAsync()).Version);

        // What 'granary apply' does: the registry's rules straight over the store, no silo.
        await using (var cli = await LocalRegistry.OpenAsync(cluster.Repository.Root, CancellationToken.None))
            Assert.Equal(1, (await cli.Service.ApplyAsync(_project, new ApplyRequest(Sample(), 0, false))).Version);

        // The grain did not make that version; its long poll re-reads the store when the wait ends.
        var seen = await grain.WaitForVersionAfterAsync(0, TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, seen!.Version);
        var stale = Sample() with { Entities = [.. Sample().Entities.Select(e => e with { Description = "stale" })] };
        var conflict = await Assert.ThrowsAsync<RegistryConflictException>(() => Registry(2).ApplyAsync(new ApplyRequest(stale, 0, false)));
        Assert.Contains("is at version 1, not 0", conflict.Message);
    }

    private static TransformRow Row(int i) => new()
    {
        ["conv_rate"] = i % 7 == 0 ? null : (object)(i / 100f),
        ["val_to_add"] = (long)i,
        ["val_to_add_2"] = (long)(i * 3 - 20),
    };

    private static async Task<(ApplyResult? Result, Exception? Error)> Capture(Func<Task<ApplyResult>> apply)
    {
        try { return (await apply(), null); }
        catch (Exception e) { return (null, e); }
    }
}
