using Granary.Runtime.Hosting;

namespace Granary.Persistence.Redis;

/// <summary>Adds Redis grain storage to a silo.</summary>
public static class RedisSiloBuilderExtensions
{
    /// <summary>Adds a Redis storage provider named <paramref name="name"/>.</summary>
    public static ISiloBuilder AddRedisGrainStorage(this ISiloBuilder builder, string name, Action<RedisGrainStorageOptions> configure)
    {
        var options = new RedisGrainStorageOptions();
        configure(options);
        var storage = new RedisGrainStorage(name, options);
        return builder.AddGrainStorage(name, _ => storage);
    }

    /// <summary>Adds a Redis storage provider as the default one.</summary>
    public static ISiloBuilder AddRedisGrainStorageAsDefault(this ISiloBuilder builder, Action<RedisGrainStorageOptions> configure)
        => builder.AddRedisGrainStorage("Default", configure);
}
