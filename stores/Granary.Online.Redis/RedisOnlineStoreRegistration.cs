using Granary.Online;
using Granary.Repository;
using Granary.Stores;
using Granary.Streams;
using Granary.Definitions;
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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStreamSourceProvider, StreamProvider>());
        return services;
    }

    /// <summary>Redis Streams (a push source's <c>stream: { type: redis }</c>), on the stream's connection or else the online store's.</summary>
    private sealed class StreamProvider : IStreamSourceProvider
    {
        public string Type => "redis";

        public async Task<IStreamSource> OpenAsync(StreamDefinition stream, string consumer, string? defaultConnection, CancellationToken cancellationToken)
        {
            var connection = stream.Connection ?? defaultConnection
                ?? throw new StreamDefinitionException($"stream '{stream.Key}' names no connection and the online store is not Redis",
                    "add 'connection: host:port' to the stream, or configure online_store: { type: redis } in granary.yaml");
            return await RedisStreamSource.ConnectAsync(connection, stream, consumer);
        }
    }

    private sealed class Provider : IOnlineStoreProvider
    {
        public OnlineStoreKind Kind => OnlineStoreKind.Redis;

        public async Task<IOnlineStore> OpenAsync(StoreSettings settings, CancellationToken cancellationToken)
            => await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = settings.ConnectionString!, KeyTtl = settings.KeyTtl });
    }
}
