using Granary.Grains.Historical;
using Granary.Grains.Registry;
using Granary.Runtime.Hosting;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Granary.Grains.Hosting;

/// <summary>Adds the feature store's grains and their silo-wide services; the stores they need are added separately (see Granary.Hosting).</summary>
public static class FeatureStoreGrainsExtensions
{
    /// <summary>
    /// Adds every grain of Granary.Grains, the transform catalog, the registry service and the per-silo registry cache.
    /// Needs an <see cref="IRegistryStore"/> registered by the caller.
    /// </summary>
    public static ISiloBuilder AddFeatureStoreGrains(this ISiloBuilder silo)
    {
        silo.AddGrainsFromAssembly(typeof(RegistryGrain).Assembly);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton<TransformCatalog>();
        silo.Services.TryAddSingleton(sp => new RegistryService(
            sp.GetRequiredService<IRegistryStore>(), sp.GetRequiredService<TransformCatalog>(), sp.GetRequiredService<TimeProvider>()));
        silo.Services.TryAddSingleton<RegistryCache>();
        silo.Services.AddHostedService(sp => new RegistryCacheShutdown(sp.GetRequiredService<RegistryCache>()));
        // Historical queries read definitions from the registry and run in whichever IOfflineStore reads their sources.
        silo.Services.TryAddSingleton<IFeatureDefinitionSource, RegistryFeatureDefinitionSource>();
        silo.Services.TryAddSingleton<OfflineStoreSelector>();
        return silo;
    }

    // Registered after the silo's own lifecycle service, so it stops first: the cache's long polls end before grains deactivate.
    private sealed class RegistryCacheShutdown(RegistryCache cache) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => cache.StopAsync();
    }
}
