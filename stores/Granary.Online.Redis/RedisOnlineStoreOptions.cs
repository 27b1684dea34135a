namespace Granary.Online.Redis;

/// <summary>Settings of <see cref="RedisOnlineStore"/>.</summary>
public sealed class RedisOnlineStoreOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c> or
    /// <c>host1:6379,host2:6379,connectTimeout=2000,asyncTimeout=2000</c>. Redis Cluster is discovered from any node.
    /// </summary>
    public required string Configuration { get; init; }

    /// <summary>Prepended to every key (e.g. <c>granary:</c>, or a unique prefix per test); default empty.</summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>
    /// Like Feast's <c>key_ttl_seconds</c>: an entity's hash expires this long after the last applied write to any of its
    /// views. Null (default): keys never expire.
    /// </summary>
    public TimeSpan? KeyTtl { get; init; }

    /// <summary>
    /// When true (default), commands fail at once while no connection is up instead of queueing until a timeout, so a
    /// caller learns that Redis is down as soon as possible.
    /// </summary>
    public bool FailFastWhileDisconnected { get; init; } = true;
}
