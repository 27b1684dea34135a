using Granary.Grains.Health;
using Granary.Grains.Historical;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Push;
using Granary.Registry;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Granary.Grains.Hosting;

/// <summary>Adds the silo-wide services the feature store's grains use; the stores they need are added by the host (Granary.Hosting).</summary>
public static class GranaryGrainsExtensions
{
    /// <summary>
    /// Adds the transform catalog, the registry service, the per-silo registry cache (stopped before grains deactivate),
    /// what historical queries need, the online tier's per-silo services, and the start-up call that sets the project's
    /// health check reminders. Needs an <see cref="IRegistryStore"/>, any
    /// number of <see cref="IOfflineStore"/>s and, for online reads, materialization and push, an <see cref="Granary.Online.IOnlineStore"/>.
    /// Grain classes themselves are found by Orleans from this assembly's generated code.
    /// </summary>
    public static ISiloBuilder AddGranaryGrains(this ISiloBuilder silo)
    {
        var services = silo.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TransformCatalog>();
        services.TryAddSingleton(sp => new RegistryService(
            sp.GetRequiredService<IRegistryStore>(), sp.GetRequiredService<TransformCatalog>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<RegistryCache>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RegistryCacheLifecycle>();
        // Health checks are scheduled by every silo once active (granary.yaml health:), with or without a gateway.
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, HealthScheduleLifecycle>();
        services.TryAddSingleton<IFeatureDefinitionSource, RegistryFeatureDefinitionSource>();
        services.TryAddSingleton<OfflineStoreSelector>();
        // Online tier: per-silo cache epochs (materialization invalidates them through the silo-pinned grain), materialization defaults (checked at start-up).
        services.TryAddSingleton<OnlineCacheEpochs>();
        services.TryAddSingleton<ActiveEntityCaches>();
        services.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        // Grouped reads: entity grains placed by key hash, so a read knows each entity's silo; their caches read in place.
        services.AddPlacementDirector<EntityPlacement, EntityPlacementDirector>();
        services.TryAddSingleton<EntityOwners>();
        services.TryAddSingleton<EntityCacheReader>();
        // Erasure: every write path drops rows of erased entities (tombstones per project, cached per silo).
        services.TryAddSingleton<Erasure.TombstoneCache>();
        services.AddOptions<MaterializationOptions>().BindConfiguration(MaterializationOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MaterializationOptions>>(new ProblemsValidator<MaterializationOptions>(o => o.Problems())));
        // Push: the event-id column and the deduplication window (default 24 h), checked at start-up.
        services.AddOptions<PushOptions>().BindConfiguration("Granary:Push").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PushOptions>>(new ProblemsValidator<PushOptions>(o => o.Problems())));
        return silo;
    }

    /// <summary>
    /// Runs the ingest worker of every push source that names a stream, one owner per stream in the cluster
    /// (<see cref="Streams.IStreamIngestGrain"/>), moved to a live silo when its silo dies. For silos that serve a repository;
    /// needs the stream engines (<see cref="Granary.Streams.IStreamSourceProvider"/>) registered by the host.
    /// </summary>
    public static ISiloBuilder AddGranaryStreamIngest(this ISiloBuilder silo, Action<Streams.StreamIngestOptions>? configure = null)
    {
        var services = silo.Services;
        var options = services.AddOptions<Streams.StreamIngestOptions>().BindConfiguration(Streams.StreamIngestOptions.SectionName).ValidateOnStart();
        if (configure is not null) options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Streams.StreamIngestOptions>>(new ProblemsValidator<Streams.StreamIngestOptions>(o => o.Problems())));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Streams.StreamIngestLifecycle>();
        return silo;
    }

    /// <summary>Fails start-up with each problem the options report (<c>Problems()</c>: the key, the value and the fix).</summary>
    private sealed class ProblemsValidator<TOptions>(Func<TOptions, IReadOnlyList<string>> problems) : IValidateOptions<TOptions> where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
            => problems(options) is { Count: > 0 } found ? ValidateOptionsResult.Fail(found) : ValidateOptionsResult.Success;
    }

    /// <summary>
    /// Stops the registry cache's long polls when the silo leaves the Active stage, i.e. before grains are deactivated,
    /// so no poll holds a registry grain's shutdown.
    /// </summary>
    private sealed class RegistryCacheLifecycle(RegistryCache cache) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle)
            => lifecycle.Subscribe(nameof(RegistryCacheLifecycle), ServiceLifecycleStage.Active, _ => Task.CompletedTask, _ => cache.StopAsync());
    }
}
