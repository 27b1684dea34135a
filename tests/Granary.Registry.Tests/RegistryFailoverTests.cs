using Granary.Definitions;
using Granary.Grains.Registry;

namespace Granary.Registry.Tests;

/// <summary>
/// A silo dies under load: callers loop on the registry grain while the silo holding it is killed; they succeed again
/// once Orleans re-activates the grain elsewhere, and every version an apply reported is in the registry, in order.
/// </summary>
public sealed class RegistryFailoverTests : IAsyncLifetime
{
    private readonly RegistryTestCluster _cluster = new();
    private readonly string _project = RegistryTestCluster.NewProject();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task Killing_the_silo_of_the_registry_grain_loses_no_version_and_callers_recover()
    {
        var sample = _cluster.Repository.Load().ToSnapshot();
        var grain = _cluster.Client.GetGrain<IRegistryGrain>(_project);
        await grain.ApplyAsync(new ApplyRequest(sample, 0, false));
        // Put the activation on a silo other than the first (the test cluster's primary), then kill that one.
        var victim = _cluster.Cluster.Silos[1];
        // TestingHost's MigrateAsync waits for a move that never happens when the grain is already there (it then hangs
        // the test run): migrate only when needed, and bound the wait.
        if (_cluster.HostOf(_project)?.SiloAddress != victim.SiloAddress)
        {
            try { await _cluster.Cluster.MigrateAsync(grain.GetGrainId(), victim.SiloAddress).WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (TimeoutException) { /* checked just below */ }
        }
        Assert.Equal(victim.SiloAddress, _cluster.HostOf(_project)?.SiloAddress);

        using var stop = new CancellationTokenSource();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<long, string>();
        var successesAfterKill = new int[4];
        var killed = false;
        // Three readers and one writer, each through its own path into the cluster (the client, and silos 0 and 2).
        var readers = Enumerable.Range(0, 3).Select(i => Task.Run(async () =>
        {
            var factory = i == 0 ? (IGrainFactory)_cluster.Client : _cluster.GrainsOf(i == 1 ? 0 : 2);
            var registry = factory.GetGrain<IRegistryGrain>(_project);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var snapshot = await registry.GetSnapshotAsync();
                    Assert.True(snapshot.Version >= 1);
                    if (Volatile.Read(ref killed)) Interlocked.Increment(ref successesAfterKill[i]);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    // The killed silo's calls fail until the grain is active again elsewhere; the caller retries.
                    await Task.Delay(10);
                }
            }
        })).ToList();
        var writer = Task.Run(async () =>
        {
            var registry = _cluster.Client.GetGrain<IRegistryGrain>(_project);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var definitions = sample with { Entities = [.. sample.Entities.Select(e => e with { Description = $"write {n}" })] };
                try
                {
                    var current = await registry.GetSnapshotAsync();
                    var result = await registry.ApplyAsync(new ApplyRequest(definitions, current.Version, false));
                    Assert.True(result.Created);
                    Assert.True(acknowledged.TryAdd(result.Version, $"write {n}"), $"version {result.Version} acknowledged twice");
                    if (Volatile.Read(ref killed)) Interlocked.Increment(ref successesAfterKill[3]);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    // A failed or unanswered apply may or may not have been stored; the next loop re-reads the version.
                    await Task.Delay(10);
                }
            }
        });

        await WaitUntil(() => acknowledged.Count >= 5, "the writer to apply 5 versions before the kill");
        await _cluster.Cluster.KillSiloAsync(victim);
        Volatile.Write(ref killed, true);
        await WaitUntil(() => successesAfterKill.All(n => n >= 20), "every caller to succeed 20 times after the kill");
        await stop.CancelAsync();
        await Task.WhenAll(readers.Append(writer));

        Assert.NotEqual(victim.SiloAddress, _cluster.HostOf(_project)?.SiloAddress);
        var history = await grain.GetHistoryAsync();
        // Versions are contiguous from 1: nothing was lost or written twice.
        Assert.Equal(Enumerable.Range(1, history.Count).Select(v => (long)v), history.Select(h => h.Version));
        foreach (var (version, description) in acknowledged)
        {
            var stored = await grain.GetVersionAsync(version);
            Assert.All(stored.Entities, e => Assert.Equal(description, e.Description));
        }
        Assert.Equal(history[^1].Version, (await grain.GetSnapshotAsync()).Version);
    }

    // A bound so a broken cluster fails the test instead of hanging it; not a speed requirement.
    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
