using Granary.Grains.Hosting;
using Granary.Offline;
using Granary.Grains.Registry;
using Granary.Offline.DuckDb;
using Granary.Offline.Postgres;
using Granary.Persistence.Redis;
using Granary.Persistence.Sqlite;
using Granary.Registry.Sql;
using Granary.Repository;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Granary.Hosting;

/// <summary>Adds a whole feature store for one repository configuration to a silo.</summary>
public static class FeatureStoreHostingExtensions
{
    /// <summary>
    /// Adds the feature store's grains and the stores <paramref name="config"/> names: the registry (SQLite file resolved
    /// against <paramref name="repositoryRoot"/>, or PostgreSQL), the offline stores (DuckDB for file sources always;
    /// PostgreSQL when configured), and the source-schema reader validation uses. The registry schema is created at start.
    /// </summary>
    public static ISiloBuilder AddGranaryFeatureStore(this ISiloBuilder silo, RepositoryConfig config, string repositoryRoot)
    {
        var services = silo.Services;
        services.AddSingleton(config);
        services.AddSingleton(new FeatureRepositoryLocation(Path.GetFullPath(repositoryRoot)));
        services.AddSingleton<IRegistryStore>(sp => config.Registry.Kind switch
        {
            RegistryStoreKind.Postgres => new PostgresRegistryStore(config.Registry.ConnectionString!, sp.GetRequiredService<TimeProvider>()),
            _ => new SqliteRegistryStore(RepositoryConfig.ResolvePath(repositoryRoot, config.Registry.Path), sp.GetRequiredService<TimeProvider>()),
        });
        services.AddHostedService(sp => new RegistryStoreInitializer(sp.GetRequiredService<IRegistryStore>()));

        // DuckDB reads file sources in every configuration; PostgreSQL sources need the PostgreSQL offline store.
        var duckDbOptions = new DuckDbOfflineStoreOptions { RepositoryPath = Path.GetFullPath(repositoryRoot) };
        services.AddSingleton<IOfflineStore>(_ => new DuckDbOfflineStore(duckDbOptions));
        if (config.OfflineStore.Kind == OfflineStoreKind.Postgres)
            services.AddSingleton<IOfflineStore>(_ => new PostgresOfflineStore(new PostgresOfflineStoreOptions { ConnectionString = config.OfflineStore.ConnectionString!, DuckDb = duckDbOptions }));
        services.AddSingleton<ISourceSchemaReader>(sp => new OfflineSourceSchemaReader(sp.GetServices<IOfflineStore>().ToList(), config));

        silo.AddFeatureStoreGrains();
        return silo;
    }

    /// <summary>
    /// Adds the default grain-state storage from <paramref name="config"/>'s online store: a SQLite file (resolved against
    /// <paramref name="repositoryRoot"/>) or Redis. Separate from <see cref="AddGranaryFeatureStore"/> so a silo executable
    /// can choose its own storage instead.
    /// </summary>
    public static ISiloBuilder AddGranaryGrainStorage(this ISiloBuilder silo, RepositoryConfig config, string repositoryRoot)
    {
        if (config.OnlineStore.Kind == OnlineStoreKind.Redis)
            return silo.AddRedisGrainStorageAsDefault(o => o.ConnectionString = config.OnlineStore.ConnectionString!);
        var path = RepositoryConfig.ResolvePath(repositoryRoot, config.OnlineStore.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return silo.AddSqliteGrainStorageAsDefault(o => o.ConnectionString = $"Data Source={path}");
    }

    private sealed class RegistryStoreInitializer(IRegistryStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The absolute path of the feature repository a silo serves.</summary>
public sealed record FeatureRepositoryLocation(string Root);
