using Granary.Online;
using Granary.Repository;
using Granary.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Online.Redis;

/// <summary>Makes the Redis online store available to a host (granary.yaml <c>online_store: { type: redis }</c>).</summary>
public static class RedisOnlineStoreRegistration
{
    /// <summary>Adds the Redis online store to the engines the host picks from.</summary>
    public static IServiceCollection AddGranaryRedisOnlineStore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOnlineStoreProvider, Provider>());
        return services;
    }

    private sealed class Provider : IOnlineStoreProvider
    {
        public OnlineStoreKind Kind => OnlineStoreKind.Redis;

        public async Task<IOnlineStore> OpenAsync(StoreSettings settings, CancellationToken cancellationToken)
            => await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = settings.ConnectionString!, KeyTtl = settings.KeyTtl });
    }
}
