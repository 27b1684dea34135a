using Granary.FeatureHealth;
using Granary.Repository;
using Granary.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>
/// Makes the DuckDB offline store available to a host: it reads the repository's file sources whatever
/// <c>offline_store</c> names, reads drift baselines (<see cref="ITrainingSetReader"/>) and reads historical results back
/// for streaming (<see cref="IRetrievalResultReader"/>).
/// </summary>
public static class DuckDbOfflineStoreRegistration
{
    /// <summary>Adds the DuckDB offline store, the training-set reader and the result reader.</summary>
    public static IServiceCollection AddGranaryDuckDbOfflineStore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOfflineStoreProvider, Provider>());
        services.TryAddSingleton<ITrainingSetReader, DuckDbTrainingSetReader>();
        services.TryAddSingleton<IRetrievalResultReader, DuckDbRetrievalResultReader>();
        return services;
    }

    private sealed class Provider : IOfflineStoreProvider
    {
        public OfflineStoreKind Kind => OfflineStoreKind.DuckDb;
        public bool ServesFileSources => true;
        public IOfflineStore Create(StoreSettings settings) => new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = settings.RepositoryRoot });
    }
}
