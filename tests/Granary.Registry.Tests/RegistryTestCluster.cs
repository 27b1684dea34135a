using Granary.Cli;
using Granary.Grains.Registry;
using Granary.Grains.Client;
using Granary.Hosting;
using Granary.Repository;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Granary.Registry.Tests;

/// <summary>
/// Three real Orleans silos in this process (Orleans' TestingHost), each serving the sample repository with
/// <c>AddGranary</c> over one SQLite registry, plus a cluster client. Grains spread over the silos, so calls cross them.
/// </summary>
public sealed class RegistryTestCluster : IAsyncLifetime
{
    private readonly TestRepository _repo = new();

    /// <summary>The running cluster.</summary>
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The repository every silo serves.</summary>
    internal TestRepository Repository => _repo;

    /// <summary>A client outside the silos, as a gateway would be.</summary>
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var repository = RepositoryConfig.Load(_repo.Root);
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGranaryStoreEngines();
            silo.AddGranary(repository);
            silo.AddMemoryGrainStorageAsDefault();
        });
        builder.ConfigureClient(client => client.AddGranaryClient());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _repo.Dispose();
    }

    /// <summary>A project name of its own, so tests sharing the cluster's registry do not see each other's versions.</summary>
    public static string NewProject() => "p_" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The grain factory of silo <paramref name="index"/>: calls made from inside that silo.</summary>
    public IGrainFactory GrainsOf(int index) => Cluster.Silos[index].ServiceProvider.GetRequiredService<IGrainFactory>();

    /// <summary>A service of silo <paramref name="index"/>.</summary>
    public T ServiceOf<T>(int index) where T : notnull => Cluster.Silos[index].ServiceProvider.GetRequiredService<T>();

    /// <summary>The silo holding the activation of <paramref name="project"/>'s registry grain, if it is active.</summary>
    public InProcessSiloHandle? HostOf(string project)
    {
        var id = Client.GetGrain<IRegistryGrain>(project).GetGrainId();
        return Cluster.TryGetGrainContext(id, out var context)
            ? Cluster.Silos.FirstOrDefault(s => s.SiloAddress.Equals(context.Address.SiloAddress))
            : null;
    }
}
