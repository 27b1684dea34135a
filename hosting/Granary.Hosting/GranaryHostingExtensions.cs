using Granary.FeatureHealth;
using Granary.Grains;
using Granary.Grains.Hosting;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Postgres;
using Granary.Online;
using Granary.Registry;
using Granary.Registry.Sql;
using Granary.Repository;
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
    /// Serves the feature repository at <paramref name="repositoryRoot"/> from this silo: options from its granary.yaml
    /// (overridable by the configuration section <c>Granary</c>, validated at start-up), the stores they name, the grains'
    /// services and the serializers for core's types. The registry schema is created before the silo becomes active.
    /// Throws <see cref="RepositoryValidationException"/> (with file:line) when granary.yaml is not valid.
    /// </summary>
    public static ISiloBuilder AddGranary(this ISiloBuilder silo, string repositoryRoot)
    {
        var root = Path.GetFullPath(repositoryRoot);
        var config = RepositoryConfig.Load(root);
        silo.Services.AddGranaryOptions(config, root, silo.Configuration);
        silo.Services.AddSingleton(new TransformCatalog(TransformCacheFolder(root)));
        silo.Services.AddGranaryStores(config);
        silo.Services.AddGranarySerialization();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RegistrySchemaLifecycle>();
        silo.Services.AddSingleton<OnlineStoreLifecycle>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<OnlineStoreLifecycle>());
        silo.Services.AddSingleton<IOnlineStore>(sp => sp.GetRequiredService<OnlineStoreLifecycle>().Store);
        silo.AddGranaryGrains();
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
    /// Adds the stores <see cref="GranaryOptions"/> names: the registry (SQLite or PostgreSQL), the offline stores (DuckDB
    /// for file sources always; PostgreSQL when configured), the source-schema reader validation uses and the DuckDB reader
    /// of drift baselines. Needs no silo:
    /// the CLI's registry commands use these directly. Which offline engines exist follows <paramref name="config"/>.
    /// </summary>
    public static IServiceCollection AddGranaryStores(this IServiceCollection services, RepositoryConfig config)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRegistryStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<GranaryOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            return o.Registry.Kind switch
            {
                RegistryStoreKind.Postgres => new PostgresRegistryStore(o.Registry.ConnectionString!, time),
                _ => new SqliteRegistryStore(o.Resolve(o.Registry.Path!), time),
            };
        });
        services.AddSingleton<IOfflineStore>(sp => new DuckDbOfflineStore(DuckDbOptions(sp)));
        if (config.OfflineStore.Kind == OfflineStoreKind.Postgres)
        {
            services.AddSingleton<IOfflineStore>(sp => new PostgresOfflineStore(new PostgresOfflineStoreOptions
            {
                ConnectionString = sp.GetRequiredService<IOptions<GranaryOptions>>().Value.OfflineStore.ConnectionString!,
                DuckDb = DuckDbOptions(sp),
            }));
        }
        // Drift baselines (Parquet or CSV) are read with DuckDB on every silo, so scheduled checks accept Parquet too.
        services.TryAddSingleton<ITrainingSetReader, DuckDbTrainingSetReader>();
        services.TryAddSingleton<IRetrievalResultReader, DuckDbRetrievalResultReader>();
        services.TryAddSingleton<ISourceSchemaReader>(sp => new OfflineSourceSchemaReader(
            sp.GetServices<IOfflineStore>().ToList(), sp.GetRequiredService<IOptions<GranaryOptions>>().Value));
        return services;
    }

    /// <summary>Where a repository keeps its compiled on-demand transforms between runs.</summary>
    public static string TransformCacheFolder(string repositoryRoot) => Path.Combine(repositoryRoot, "data", ".transforms");

    private static DuckDbOfflineStoreOptions DuckDbOptions(IServiceProvider sp)
        => new() { RepositoryPath = sp.GetRequiredService<IOptions<GranaryOptions>>().Value.RepositoryRoot };

    /// <summary>Creates the registry schema at the silo's RuntimeServices stage, before any grain can be called.</summary>
    private sealed class RegistrySchemaLifecycle(IRegistryStore store) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle)
            => lifecycle.Subscribe(nameof(RegistrySchemaLifecycle), ServiceLifecycleStage.RuntimeServices, store.InitializeAsync, _ => Task.CompletedTask);
    }
}
