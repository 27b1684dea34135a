using Granary.Online;
using Granary.Repository;
using Granary.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Online.Sqlite;

/// <summary>Makes the embedded SQLite online store available to a host (granary.yaml <c>online_store: { type: sqlite }</c>, the default).</summary>
public static class SqliteOnlineStoreRegistration
{
    /// <summary>Adds the SQLite online store to the engines the host picks from.</summary>
    public static IServiceCollection AddGranarySqliteOnlineStore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOnlineStoreProvider, Provider>());
        return services;
    }

    private sealed class Provider : IOnlineStoreProvider
    {
        public OnlineStoreKind Kind => OnlineStoreKind.Sqlite;

        public async Task<IOnlineStore> OpenAsync(StoreSettings settings, CancellationToken cancellationToken)
            => await SqliteOnlineStore.OpenAsync(new SqliteOnlineStoreOptions { Path = settings.Path!, KeyTtl = settings.KeyTtl });
    }
}
