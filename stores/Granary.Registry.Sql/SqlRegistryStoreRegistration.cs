using Granary.Registry;
using Granary.Repository;
using Granary.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Registry.Sql;

/// <summary>Makes the SQL registries available to a host: SQLite (the default) and PostgreSQL (granary.yaml <c>registry.type</c>).</summary>
public static class SqlRegistryStoreRegistration
{
    /// <summary>Adds the SQLite and PostgreSQL registries to the engines the host picks from.</summary>
    public static IServiceCollection AddGranarySqlRegistryStores(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRegistryStoreProvider, SqliteProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRegistryStoreProvider, PostgresProvider>());
        return services;
    }

    private sealed class SqliteProvider : IRegistryStoreProvider
    {
        public RegistryStoreKind Kind => RegistryStoreKind.Sqlite;
        public IRegistryStore Create(StoreSettings settings) => new SqliteRegistryStore(settings.Path!, settings.Time);
    }

    private sealed class PostgresProvider : IRegistryStoreProvider
    {
        public RegistryStoreKind Kind => RegistryStoreKind.Postgres;
        public IRegistryStore Create(StoreSettings settings) => new PostgresRegistryStore(settings.ConnectionString!, settings.Time);
    }
}
