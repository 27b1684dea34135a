using System.Diagnostics;
using Granary.Cli;
using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Hosting;
using Granary.Repository;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Registry.Tests;

/// <summary>The registry grain in real embedded silos over one SQLite registry: applies, long polls, caches, transforms.</summary>
public sealed class RegistryGrainTests : IAsyncLifetime
{
    private readonly TestRepository _repo = new();
    private EmbeddedFeatureStore _silo1 = null!;
    private EmbeddedFeatureStore _silo2 = null!;

    public async Task InitializeAsync()
    {
        SampleData.Write(_repo.Root, DateTimeOffset.Parse("2026-03-01T00:00:00Z"));
        _silo1 = await EmbeddedFeatureStore.StartAsync(_repo.Root);
        _silo2 = await EmbeddedFeatureStore.StartAsync(_repo.Root);
    }

    public async Task DisposeAsync()
    {
        await _silo1.DisposeAsync();
        await _silo2.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _repo.Dispose();
    }

    private IRegistryGrain Registry(EmbeddedFeatureStore silo) => silo.Grains.GetGrain<IRegistryGrain>("demo");

    private RegistrySnapshot Sample() => _repo.Load().ToSnapshot();

    [Fact]
    public async Task A_waiting_reader_learns_of_a_new_version_as_soon_as_it_is_applied()
    {
        var grain = Registry(_silo1);
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
        var grain = Registry(_silo1);
        await grain.ApplyAsync(new ApplyRequest(Sample(), 0, false));
        Assert.Null(await grain.WaitForVersionAfterAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, (await grain.WaitForVersionAfterAsync(0, TimeSpan.FromSeconds(10)))!.Version);
    }

    [Fact]
    public async Task The_silo_registry_cache_follows_new_versions_without_a_fixed_wait()
    {
        var cache = _silo1.Services.GetRequiredService<RegistryCache>();
        Assert.Equal(0, (await cache.GetAsync("demo")).Version);

        await Registry(_silo1).ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var clock = Stopwatch.StartNew();
        var snapshot = await cache.WaitForVersionAsync("demo", 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, snapshot.Version);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cache took {clock.Elapsed}");
        Assert.Equal(1, (await cache.GetAsync("demo")).Version);
    }

    [Fact]
    public async Task Concurrent_applies_from_two_silos_have_one_winner_and_the_loser_gets_a_conflict()
    {
        await Registry(_silo1).ApplyAsync(new ApplyRequest(Sample(), 0, false));
        await Registry(_silo2).GetSnapshotAsync(); // activate in silo 2 too: two activations, one database
        var a = Sample() with { Entities = [.. Sample().Entities.Select(e => e with { Description = "from silo 1" })] };
        var b = Sample() with { Entities = [.. Sample().Entities.Select(e => e with { Description = "from silo 2" })] };

        var results = await Task.WhenAll(
            Capture(() => Registry(_silo1).ApplyAsync(new ApplyRequest(a, 1, false))),
            Capture(() => Registry(_silo2).ApplyAsync(new ApplyRequest(b, 1, false))));

        Assert.Single(results, r => r.Result is not null);
        var loser = Assert.Single(results, r => r.Error is not null).Error!;
        Assert.IsType<RegistryConflictException>(loser);
        Assert.Contains("is at version 2, not 1", loser.Message);
        var winner = results[0].Result is not null ? a : b;
        Assert.Equal(RegistryJson.DefinitionsOf(winner), RegistryJson.DefinitionsOf(await Registry(_silo1).GetVersionAsync(2)));
        // The loser's silo caught up with the winner's version.
        Assert.Equal(2, (await Registry(_silo2).GetSnapshotAsync()).Version);
        Assert.Equal(2, (await Registry(_silo1).GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task A_transform_applied_once_gives_the_same_outputs_in_both_silos()
    {
        await Registry(_silo1).ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var snapshot1 = await Registry(_silo1).GetSnapshotAsync();
        var snapshot2 = await Registry(_silo2).GetVersionAsync(1);
        var t1 = _silo1.Services.GetRequiredService<TransformCatalog>().GetTransform(snapshot1, "transformed_conv_rate");
        var t2 = _silo2.Services.GetRequiredService<TransformCatalog>().GetTransform(snapshot2, "transformed_conv_rate");

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
        var grain = Registry(_silo1);
        await grain.ApplyAsync(new ApplyRequest(Sample(), 0, false));
        var start = DateTimeOffset.Parse("2026-02-01T00:00:00Z");
        await grain.RecordMaterializationIntervalAsync("driver_hourly_stats", start, start.AddDays(1));

        var snapshot = await grain.GetSnapshotAsync();
        var interval = Assert.Single(snapshot.MaterializationIntervals["driver_hourly_stats"]);
        Assert.Equal((start, start.AddDays(1)), (interval.Start, interval.End));
        Assert.Equal(1, snapshot.Version);
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
