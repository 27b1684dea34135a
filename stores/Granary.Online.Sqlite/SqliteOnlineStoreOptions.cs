namespace Granary.Online.Sqlite;

/// <summary>Settings of <see cref="SqliteOnlineStore"/>.</summary>
public sealed class SqliteOnlineStoreOptions
{
    /// <summary>The database file; created with its folder when missing.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// Like Feast's <c>key_ttl_seconds</c>: an entity's rows expire this long after the last applied write to any of its
    /// views (the same rule as the Redis store's hash expiry). Null (default): rows never expire.
    /// </summary>
    public TimeSpan? KeyTtl { get; init; }

    /// <summary>How long a statement waits for another writer's lock before failing as unavailable; default 30 s.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock for expiry; default the system clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
