using Granary.Offline.DuckDb;
using Granary.Offline.Postgres;
using Granary.Online.Redis;
using Granary.Online.Sqlite;
using Granary.Registry.Sql;
using Granary.Grains.Client;
using Granary.Hosting;
using Granary.Repository;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Granary.Grains.Tests;

/// <summary>
/// A real three-silo Orleans cluster in this process, every silo serving the same feature repository (a SQLite registry
/// shared through the file, DuckDB over the repository's files), so grains land on different silos and calls cross them.
/// </summary>
public sealed class ThreeSiloCluster : IAsyncDisposable
{
    private ThreeSiloCluster(InProcessTestCluster cluster, string repositoryRoot)
    {
        Cluster = cluster;
        RepositoryRoot = repositoryRoot;
    }

    /// <summary>The cluster (silos, client).</summary>
    public InProcessTestCluster Cluster { get; }

    /// <summary>The repository every silo serves.</summary>
    public string RepositoryRoot { get; }

    /// <summary>Grain references through the cluster's client.</summary>
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>
    /// Starts three silos serving <paramref name="repositoryRoot"/> (given <paramref name="granaryYaml"/>, default a "demo"
    /// project on the embedded stores, when it has no granary.yaml); <paramref name="configure"/> adds to every silo first.
    /// With <paramref name="memoryGrainState"/> false the silos get no default grain storage, so <paramref name="configure"/>
    /// must add one (e.g. Redis, for state that survives a silo).
    /// </summary>
    public static async Task<ThreeSiloCluster> StartAsync(string repositoryRoot, string granaryYaml = "project: demo\n", Action<ISiloBuilder>? configure = null,
        bool memoryGrainState = true)
    {
        Directory.CreateDirectory(repositoryRoot);
        var yaml = Path.Combine(repositoryRoot, RepositoryConfig.FileName);
        if (!File.Exists(yaml)) await File.WriteAllTextAsync(yaml, granaryYaml);
        var repository = RepositoryConfig.Load(repositoryRoot);
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) =>
        {
            configure?.Invoke(silo);
            if (memoryGrainState) silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            silo.Services.AddGranarySqlRegistryStores().AddGranarySqliteOnlineStore().AddGranaryRedisOnlineStore()
                .AddGranaryDuckDbOfflineStore().AddGranaryPostgresOfflineStore();
            silo.AddGranary(repository);
        });
        // The test calls long grain methods directly (a large push, a retry that waits out a dead attempt's lease), which the
        // shipped client's 3 s response timeout would cut; the gateway's own path is tested with the shipped timings.
        builder.ConfigureClient(client => client.AddGranaryClient().Services
            .Configure<ClusterClientTimingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30)));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ThreeSiloCluster(cluster, repositoryRoot);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
