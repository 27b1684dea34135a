using Granary.Audit;
using Granary.Registry;
using Granary.Repository;
using Granary.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Registry.Sql;

/// <summary>Makes the SQL registries available to a host: SQLite (the default) and PostgreSQL (granary.yaml <c>registry.type</c>).</summary>
public static class SqlRegistryStoreRegistration
{
    /// <summary>
    /// Adds the SQLite and PostgreSQL registries to the engines the host picks from, and the audit logs on the same two
    /// engines (the audit log lives beside the registry: <c>data/audit.db</c> embedded, the registry's PostgreSQL in a cluster).
    /// </summary>
    public static IServiceCollection AddGranarySqlRegistryStores(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRegistryStoreProvider, SqliteProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRegistryStoreProvider, PostgresProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuditStoreProvider, SqliteAuditProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuditStoreProvider, PostgresAuditProvider>());
        return services;
    }

    private sealed class SqliteAuditProvider : IAuditStoreProvider
    {
        public RegistryStoreKind Kind => RegistryStoreKind.Sqlite;
        public IAuditStore Create(StoreSettings settings) => new SqliteAuditStore(settings.Path!);
    }

    private sealed class PostgresAuditProvider : IAuditStoreProvider
    {
        public RegistryStoreKind Kind => RegistryStoreKind.Postgres;
        public IAuditStore Create(StoreSettings settings) => new PostgresAuditStore(settings.ConnectionString!);
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
