using Granary.Offline.Engine;
using Granary.Repository;
using Granary.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Offline.Postgres;

/// <summary>Makes the PostgreSQL offline store available to a host (granary.yaml <c>offline_store: { type: postgres }</c>).</summary>
public static class PostgresOfflineStoreRegistration
{
    /// <summary>Adds the PostgreSQL offline store to the engines the host picks from.</summary>
    public static IServiceCollection AddGranaryPostgresOfflineStore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOfflineStoreProvider, Provider>());
        return services;
    }

    private sealed class Provider : IOfflineStoreProvider
    {
        public OfflineStoreKind Kind => OfflineStoreKind.Postgres;
        public bool ServesFileSources => false;
        public IOfflineStore Create(StoreSettings settings) => new PostgresOfflineStore(new PostgresOfflineStoreOptions
        {
            ConnectionString = settings.ConnectionString!,
            DuckDb = new DuckDbEngineOptions { RepositoryPath = settings.RepositoryRoot },
        });
    }
}
