using Microsoft.Extensions.DependencyInjection;

namespace Granary.Grains.Tests;

/// <summary>
/// A three-silo cluster on the shared test Redis, in a project of its own, whose silos read the time from a clock the
/// test moves, with the resilience repository applied: the setting of tests that cross ttl and SLA without waiting.
/// </summary>
public abstract class SteppedClockClusterTest(string prefix) : IAsyncLifetime
{
    /// <summary>The repository's folder.</summary>
    protected string Root { get; } = Directory.CreateTempSubdirectory($"granary-{prefix}-").FullName;

    /// <summary>The clock every silo reads.</summary>
    protected SteppedClock Clock { get; } = new();

    /// <summary>The project, unique per test instance.</summary>
    protected string Project { get; } = prefix[..1] + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The cluster.</summary>
    protected ThreeSiloCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var redis = Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379";
        Cluster = await ThreeSiloCluster.StartAsync(Root, $"project: {Project}\nonline_store:\n  type: redis\n  connection_string: {redis}\n",
            silo => silo.Services.AddSingleton<TimeProvider>(Clock));
        await ResilienceRepository.ApplyAsync(Cluster, Root, Project);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}
