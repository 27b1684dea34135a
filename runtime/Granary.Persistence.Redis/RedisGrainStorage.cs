using System.Text.Json;
using Granary.Runtime;
using Granary.Runtime.Serialization;
using Granary.Runtime.Storage;
using StackExchange.Redis;

namespace Granary.Persistence.Redis;

/// <summary>Settings of a Redis grain storage provider.</summary>
public sealed class RedisGrainStorageOptions
{
    /// <summary>Default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "granary";

    /// <summary>StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>First key segment (the service id): keys are <c>{prefix}/state/{grainType}/{grainKey}/{stateName}</c>. Default <c>granary</c>.</summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>When set, each write (re)sets this time-to-live on the state's key. Default: none.</summary>
    public TimeSpan? EntryExpiry { get; set; }

    /// <summary>Redis database number. Default 0.</summary>
    public int Database { get; set; }
}

/// <summary>
/// Grain storage in Redis, one hash per state with fields <c>etag</c> and <c>data</c> (JSON). Writes and clears run a Lua
/// script that compares the stored ETag with the writer's (a missing hash matches only a null ETag) before changing anything.
/// </summary>
public sealed class RedisGrainStorage : IGrainStorage, IDisposable
{
    private const string WriteScript = """
        local stored = redis.call('HGET', KEYS[1], 'etag')
        if not stored then stored = '' end
        if stored ~= ARGV[1] then return {0, stored} end
        redis.call('HMSET', KEYS[1], 'etag', ARGV[2], 'data', ARGV[3])
        if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
        return {1, ARGV[2]}
        """;

    private const string ClearScript = """
        local stored = redis.call('HGET', KEYS[1], 'etag')
        if not stored then stored = '' end
        if stored ~= ARGV[1] then return {0, stored} end
        redis.call('DEL', KEYS[1])
        return {1, ''}
        """;

    private static readonly RedisValue[] ReadFields = ["etag", "data"];

    private readonly string _name;
    private readonly RedisGrainStorageOptions _options;
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;

    /// <summary>Creates the provider; it connects on first use.</summary>
    public RedisGrainStorage(string name, RedisGrainStorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new ArgumentException($"Redis grain storage '{name}' has no ConnectionString; set it, e.g. \"127.0.0.1:6379\".", nameof(options));
        if (string.IsNullOrWhiteSpace(options.KeyPrefix))
            throw new ArgumentException($"Redis grain storage '{name}' has an empty KeyPrefix; set a service id such as \"granary\".", nameof(options));
        if (options.EntryExpiry is { } expiry && expiry <= TimeSpan.Zero)
            throw new ArgumentException($"Redis grain storage '{name}' has EntryExpiry {expiry}; it must be positive or null.", nameof(options));
        _name = name;
        _options = options;
        _connection = new Lazy<Task<ConnectionMultiplexer>>(ConnectAsync);
    }

    /// <summary>The Redis key of a grain state.</summary>
    public string KeyOf(string stateName, GrainId grainId) => $"{_options.KeyPrefix}/state/{grainId.Type}/{grainId.Key}/{stateName}";

    /// <inheritdoc/>
    public async Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        var database = await DatabaseAsync().ConfigureAwait(false);
        var values = await Run(database.HashGetAsync(KeyOf(stateName, grainId), ReadFields), "read", stateName, grainId).ConfigureAwait(false);
        if (values[0].IsNull || values[1].IsNull)
        {
            grainState.ETag = null;
            grainState.State = new TState();
            grainState.RecordExists = false;
            return;
        }
        grainState.ETag = values[0];
        grainState.State = JsonSerializer.Deserialize((byte[])values[1]!, GrainJson.TypeInfo<TState>()) ?? new TState();
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        var data = JsonSerializer.SerializeToUtf8Bytes(grainState.State, GrainJson.TypeInfo<TState>());
        var newEtag = Guid.NewGuid().ToString("N");
        var expiry = _options.EntryExpiry is { } ttl ? ((long)ttl.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty;
        var database = await DatabaseAsync().ConfigureAwait(false);
        var result = (RedisResult[])(await Run(
            database.ScriptEvaluateAsync(WriteScript, [KeyOf(stateName, grainId)], [grainState.ETag ?? string.Empty, newEtag, data, expiry]),
            "write", stateName, grainId).ConfigureAwait(false))!;
        if ((int)result[0] != 1)
            throw GrainStorageConflicts.EtagMismatch("Write", _name, stateName, grainId, NullIfEmpty((string?)result[1]), grainState.ETag);
        grainState.ETag = newEtag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        var database = await DatabaseAsync().ConfigureAwait(false);
        var result = (RedisResult[])(await Run(
            database.ScriptEvaluateAsync(ClearScript, [KeyOf(stateName, grainId)], [grainState.ETag ?? string.Empty]),
            "clear", stateName, grainId).ConfigureAwait(false))!;
        if ((int)result[0] != 1)
            throw GrainStorageConflicts.EtagMismatch("Clear", _name, stateName, grainId, NullIfEmpty((string?)result[1]), grainState.ETag);
        grainState.ETag = null;
        grainState.State = new TState();
        grainState.RecordExists = false;
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully) _connection.Value.Result.Dispose();
    }

    private static string? NullIfEmpty(string? etag) => string.IsNullOrEmpty(etag) ? null : etag;

    private async Task<IDatabase> DatabaseAsync()
    {
        var connection = await _connection.Value.ConfigureAwait(false);
        return connection.GetDatabase(_options.Database);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(_options.ConnectionString).ConfigureAwait(false);
        }
        catch (RedisConnectionException exception)
        {
            throw new GrainStorageException($"Redis grain storage '{_name}' could not connect to '{_options.ConnectionString}': {exception.Message}", exception);
        }
    }

    private async Task<T> Run<T>(Task<T> operation, string what, string stateName, GrainId grainId)
    {
        try
        {
            return await operation.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            throw new GrainStorageException($"Redis grain storage '{_name}' failed to {what} state '{stateName}' of {grainId}: {exception.Message}", exception);
        }
    }
}
