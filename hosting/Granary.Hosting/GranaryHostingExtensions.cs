using Granary.Audit;
using Granary.FeatureHealth;
using Granary.Security;
using Granary.Grains;
using Granary.Grains.Hosting;
using Granary.Offline;
using Granary.Online;
using Granary.Registry;
using Granary.Repository;
using Granary.Stores;
using Granary.Transforms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Granary.Hosting;

/// <summary>Wires a feature store into Orleans silos and clients, and its stores into any service collection.</summary>
public static class GranaryHostingExtensions
{
    /// <summary>
    /// Serves the feature repository <paramref name="repository"/> (granary.yaml, loaded by the composition root with
    /// <see cref="RepositoryConfig.Load"/>) from this silo: options from it (overridable by the configuration section
    /// <c>Granary</c>, validated at start-up), the stores they name, the grains' services and the serializers for core's
    /// types. The registry schema is created before the silo becomes active. Registration reads no file.
    /// </summary>
    public static ISiloBuilder AddGranary(this ISiloBuilder silo, RepositoryConfig repository)
    {
        var root = repository.RepositoryRoot
            ?? throw new ArgumentException("the repository configuration has no RepositoryRoot; load it with RepositoryConfig.Load(<repository folder>)", nameof(repository));
        silo.Services.AddGranaryOptions(repository, root, silo.Configuration);
        silo.Services.AddSingleton(new TransformCatalog(TransformCacheFolder(root)));
        silo.Services.AddGranaryStores();
        silo.Services.AddGranarySerialization();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RegistrySchemaLifecycle>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, AuditSchemaLifecycle>();
        silo.Services.AddSingleton<OnlineStoreLifecycle>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<OnlineStoreLifecycle>());
        silo.Services.AddSingleton<IOnlineStore>(sp => sp.GetRequiredService<OnlineStoreLifecycle>().Store);
        silo.AddGranaryGrains();
        // Streams that name no connection read from the online store's Redis (used when the host adds AddGranaryStreamIngest).
        silo.Services.AddOptions<Granary.Grains.Streams.StreamIngestOptions>().Configure<IOptions<GranaryOptions>>((streams, granary) =>
            streams.DefaultConnection ??= granary.Value.OnlineStore.Kind == OnlineStoreKind.Redis ? granary.Value.OnlineStore.ConnectionString : null);
        return silo;
    }

    /// <summary>Binds <see cref="GranaryOptions"/> from <paramref name="config"/>, then the <c>Granary</c> section of <paramref name="configuration"/>, validated at start-up.</summary>
    public static IServiceCollection AddGranaryOptions(this IServiceCollection services, RepositoryConfig config, string repositoryRoot, IConfiguration? configuration = null)
    {
        var options = services.AddOptions<GranaryOptions>().Configure(o => o.LoadFrom(config, repositoryRoot));
        if (configuration is not null) options.Bind(configuration.GetSection(GranaryOptions.SectionName));
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GranaryOptions>, GranaryOptionsValidator>());
        services.TryAddSingleton(config);
        return services;
    }

    /// <summary>
    /// Adds the stores <see cref="GranaryOptions"/> names, each created by the engine of that kind the host registered
    /// (<c>AddGranarySqliteOnlineStore</c>, <c>AddGranaryRedisOnlineStore</c>, <c>AddGranarySqlRegistryStores</c>,
    /// <c>AddGranaryDuckDbOfflineStore</c>, <c>AddGranaryPostgresOfflineStore</c>): the registry, the offline stores (every
    /// engine that reads file sources, plus the configured one) and the source-schema reader validation uses. Needs no
    /// silo: the CLI's registry commands use these directly. A kind no registered engine serves fails at first use, naming it.
    /// </summary>
    public static IServiceCollection AddGranaryStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRegistryStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<GranaryOptions>>().Value;
            var engine = StoreEngines.Pick(sp.GetServices<IRegistryStoreProvider>(), p => p.Kind, o.Registry.Kind, "registry");
            return engine.Create(StoreEngines.Settings(o, o.Registry, sp.GetRequiredService<TimeProvider>()));
        });
        services.TryAddSingleton<IAuditStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<GranaryOptions>>().Value;
            var engine = StoreEngines.Pick(sp.GetServices<IAuditStoreProvider>(), p => p.Kind, o.Audit.Kind, "audit");
            return engine.Create(StoreEngines.Settings(o, o.Audit, sp.GetRequiredService<TimeProvider>()));
        });
        services.TryAddSingleton(sp => new RequestPaths(sp.GetRequiredService<IOptions<GranaryOptions>>().Value.Resolve(
            sp.GetRequiredService<IOptions<GranaryOptions>>().Value.RequestFilesFolder), "Granary:RequestFilesFolder"));
        // The SQL registries keep the API keys too (Granary.Registry.Sql); another registry engine has none to offer.
        services.TryAddSingleton<Granary.Core.Security.IApiKeyStore>(sp => sp.GetRequiredService<IRegistryStore>() as Granary.Core.Security.IApiKeyStore
            ?? throw new InvalidOperationException($"the registry engine {sp.GetRequiredService<IRegistryStore>().GetType().Name} keeps no API keys; use the SQLite or PostgreSQL registry"));
        // The SQL registries keep erasure tombstones too.
        services.TryAddSingleton<Granary.Erasure.ITombstoneStore>(sp => sp.GetRequiredService<IRegistryStore>() as Granary.Erasure.ITombstoneStore
            ?? throw new InvalidOperationException($"the registry engine {sp.GetRequiredService<IRegistryStore>().GetType().Name} keeps no erasure tombstones; use the SQLite or PostgreSQL registry"));
        services.TryAddSingleton<Granary.Quality.IQuarantineStore>(sp => sp.GetRequiredService<IRegistryStore>() as Granary.Quality.IQuarantineStore
            ?? throw new InvalidOperationException($"the registry engine {sp.GetRequiredService<IRegistryStore>().GetType().Name} keeps no quarantine; use the SQLite or PostgreSQL registry"));
        services.TryAddSingleton<OfflineStores>();
        // Consumers take IEnumerable<IOfflineStore>; which engines run is known only once the options are.
        services.TryAddSingleton<IEnumerable<IOfflineStore>>(sp => sp.GetRequiredService<OfflineStores>().All);
        services.TryAddSingleton<ISourceSchemaReader>(sp => new OfflineSourceSchemaReader(
            sp.GetRequiredService<OfflineStores>().All, sp.GetRequiredService<IOptions<GranaryOptions>>().Value));
        return services;
    }

    /// <summary>Where a repository keeps its compiled on-demand transforms between runs.</summary>
    public static string TransformCacheFolder(string repositoryRoot) => Path.Combine(repositoryRoot, "data", ".transforms");

    /// <summary>Creates the registry schema at the silo's RuntimeServices stage, before any grain can be called.</summary>
    private sealed class RegistrySchemaLifecycle(IRegistryStore store) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle)
            => lifecycle.Subscribe(nameof(RegistrySchemaLifecycle), ServiceLifecycleStage.RuntimeServices, store.InitializeAsync, _ => Task.CompletedTask);
    }

    /// <summary>Creates the audit log's schema at the silo's RuntimeServices stage, before the audit grain can be called.</summary>
    private sealed class AuditSchemaLifecycle(IAuditStore store) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle)
            => lifecycle.Subscribe(nameof(AuditSchemaLifecycle), ServiceLifecycleStage.RuntimeServices, store.InitializeAsync, _ => Task.CompletedTask);
    }
}
