using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Granary.Online.Redis;

/// <summary>
/// The online store on Redis. One hash per entity key, <c>&lt;prefix&gt;{&lt;project&gt;/&lt;join keys&gt;}</c> (the braces are a
/// hash tag, so one entity's views stay in one Redis Cluster slot), with two fields per feature view:
/// <c>v:&lt;view&gt;</c> the encoded row (<see cref="OnlineRowCodec"/>) and <c>t:&lt;view&gt;</c> its version (event and
/// created time as 36 digits). A Lua script compares versions and writes atomically inside Redis, so newest-wins holds
/// for every writer; batches are pipelined.
/// </summary>
public sealed class RedisOnlineStore : IOnlineStore
{
    // Writes each row of a chunk, in order, unless the held row of its (entity, view) is newer. KEYS[i] is row i's entity
    // hash; ARGV[1] the key expiry in ms ('0' for none); then per row i: ARGV[3i-1] view, ARGV[3i] version, ARGV[3i+1] row
    // bytes. A version is 18 digits of event microseconds since 0001-01-01 then 18 of created microseconds + 1 (0 = none),
    // so comparing the digit strings byte by byte compares (event, created) exactly; Lua numbers are doubles and would lose
    // microseconds. A version equal to the held one replaces it. Returns per row 1 (written) or 0 (held row newer).
    private const string WriteScript = """
        local ttl = ARGV[1]
        local out = {}
        for i = 1, #KEYS do
          local view, new = ARGV[3 * i - 1], ARGV[3 * i]
          local tf = 't:' .. view
          local held = redis.call('HGET', KEYS[i], tf)
          local older = false
          if held then
            for j = 1, #new do
              local a, b = string.byte(new, j), string.byte(held, j)
              if a ~= b then
                older = a < b
                break
              end
            end
          end
          if older then
            out[i] = 0
          else
            redis.call('HSET', KEYS[i], tf, new, 'v:' .. view, ARGV[3 * i + 1])
            if ttl ~= '0' then redis.call('PEXPIRE', KEYS[i], ttl) end
            out[i] = 1
          end
        end
        return out
        """;

    // Event-id claims: one string key per id, holding 'p:<attempt>:<lease end, ms since the epoch>' while pending, and
    // anything else once committed ('c'; '1' from stores before two-phase claims). A pending key outlives its lease by
    // ARGV[3] ms, so a claim after the lease knows it takes over from an attempt that may have stored rows. KEYS are the
    // ids' keys; ARGV[1] 'p:<attempt>', ARGV[2] the lease in ms. Per key: 0 claimed now (or again by the same attempt,
    // lease renewed), 1 committed, 2 pending for another attempt under a live lease, 3 taken over from a lapsed one.
    // ('p:<attempt>' without a lease end, from older stores, lapses with the key's own expiry.)
    private const string ClaimScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local lease = tonumber(ARGV[2])
        local value = ARGV[1] .. ':' .. (now + lease)
        local keep = lease + tonumber(ARGV[3])
        local out = {}
        for i = 1, #KEYS do
          local held = redis.call('GET', KEYS[i])
          if not held then
            redis.call('SET', KEYS[i], value, 'PX', keep)
            out[i] = 0
          elseif string.sub(held, 1, 2) == 'p:' then
            local attempt, ends = string.match(held, '^(p:[^:]*):?(%d*)$')
            if attempt == ARGV[1] then
              redis.call('SET', KEYS[i], value, 'PX', keep)
              out[i] = 0
            elseif ends ~= nil and ends ~= '' and tonumber(ends) <= now then
              redis.call('SET', KEYS[i], value, 'PX', keep)
              out[i] = 3
            else
              out[i] = 2
            end
          else
            out[i] = 1
          end
        end
        return out
        """;

    // Commits each key: 'c' for ARGV[1] ms, whoever held it (the caller's rows are stored).
    private const string CommitScript = """
        for i = 1, #KEYS do
          redis.call('SET', KEYS[i], 'c', 'PX', ARGV[1])
        end
        return #KEYS
        """;

    // Deletes each key that this attempt (ARGV[1], 'p:<attempt>') still holds pending: committed ids and other attempts' stay.
    private const string ReleaseScript = """
        local n = 0
        local prefix = ARGV[1] .. ':'
        for i = 1, #KEYS do
          local held = redis.call('GET', KEYS[i])
          if held == ARGV[1] or (held and string.sub(held, 1, #prefix) == prefix) then n = n + redis.call('DEL', KEYS[i]) end
        end
        return n
        """;

    /// <summary>How long a pending claim's key outlives its lease, so a takeover is known as one (<see cref="EventIdClaim.TakenOver"/>).</summary>
    private static readonly TimeSpan PendingTrace = TimeSpan.FromDays(1);

    /// <summary>Rows per script call: enough to make the per-command cost small, few enough not to stall Redis.</summary>
    private const int RowsPerCall = 128;

    private static readonly string[] Scripts = [WriteScript, ClaimScript, CommitScript, ReleaseScript];
    private static readonly byte[] WriteScriptSha1 = Sha1Of(WriteScript);
    private static readonly byte[] ClaimScriptSha1 = Sha1Of(ClaimScript);
    private static readonly byte[] CommitScriptSha1 = Sha1Of(CommitScript);
    private static readonly byte[] ReleaseScriptSha1 = Sha1Of(ReleaseScript);
    private const long MicrosFromYearOneToUnixEpoch = 62_135_596_800_000_000;

    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;
    private readonly RedisOnlineStoreOptions _options;
    private readonly RedisValue _ttlMs;

    /// <summary>Uses an existing connection (not disposed with the store), e.g. one shared with Orleans' Redis providers.</summary>
    public RedisOnlineStore(IConnectionMultiplexer redis, RedisOnlineStoreOptions options)
        : this(redis, options, ownsConnection: false) { }

    private RedisOnlineStore(IConnectionMultiplexer redis, RedisOnlineStoreOptions options, bool ownsConnection)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        if (options.KeyTtl is { } ttl && ttl <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), ttl, "KeyTtl must be positive, or null for no expiry");
        if (options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
            throw new ArgumentException($"the Redis online store's KeyPrefix '{options.KeyPrefix}' contains a brace; braces would move the key's hash tag", nameof(options));
        _redis = redis;
        _options = options;
        _ownsConnection = ownsConnection;
        _ttlMs = options.KeyTtl is { } t ? (long)Math.Ceiling(t.TotalMilliseconds) : 0;
    }

    /// <inheritdoc/>
    /// <remarks>The connection's own view (no command sent): false from the moment it sees Redis go until it reconnects.</remarks>
    public bool IsReachable => _redis.IsConnected;

    /// <summary>
    /// Connects to Redis as <see cref="RedisOnlineStoreOptions.Configuration"/> says and loads its scripts. Starts
    /// even while Redis is down (operations then throw <see cref="OnlineStoreUnavailableException"/> until it is back).
    /// </summary>
    public static async Task<RedisOnlineStore> ConnectAsync(RedisOnlineStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConfigurationOptions config;
        try { config = ConfigurationOptions.Parse(options.Configuration); }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"the Redis online store's configuration '{options.Configuration}' is not valid: {e.Message}", nameof(options), e);
        }
        config.AbortOnConnectFail = false;
        if (options.FailFastWhileDisconnected) config.BacklogPolicy = BacklogPolicy.FailFast;
        var redis = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        var store = new RedisOnlineStore(redis, options, ownsConnection: true);
        try { await store.LoadScriptAsync().ConfigureAwait(false); }
        catch (OnlineStoreUnavailableException) { } // loaded on first use (NOSCRIPT) once Redis is reachable
        return store;
    }

    /// <summary>The Redis key of an entity's hash.</summary>
    public RedisKey HashKeyOf(EntityKey entity) => _options.KeyPrefix + "{" + entity.Canonical + "}";

    /// <inheritdoc/>
    public async Task<IReadOnlyList<OnlineWriteOutcome>> WriteAsync(IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        cancellationToken.ThrowIfCancellationRequested();
        var outcomes = new OnlineWriteOutcome[rows.Count];
        if (rows.Count == 0) return outcomes;
        // Encode everything first: a row that cannot be encoded fails the batch before anything is sent.
        var keys = new RedisKey[rows.Count];
        var data = new byte[rows.Count][];
        for (var i = 0; i < rows.Count; i++)
        {
            keys[i] = HashKeyOf(rows[i].Entity);
            data[i] = OnlineRowCodec.Encode(rows[i]);
        }
        var chunks = Chunk(keys);
        var results = await EvaluateAsync(WriteScriptSha1, chunks, chunk =>
        {
            var chunkKeys = new RedisKey[chunk.Length];
            var args = new RedisValue[1 + 3 * chunk.Length];
            args[0] = _ttlMs;
            for (var j = 0; j < chunk.Length; j++)
            {
                var row = rows[chunk[j]];
                chunkKeys[j] = keys[chunk[j]];
                args[1 + 3 * j] = row.FeatureView;
                args[2 + 3 * j] = VersionOf(row);
                args[3 + 3 * j] = data[chunk[j]];
            }
            return (chunkKeys, args);
        }, $"could not write {rows.Count} rows", cancellationToken).ConfigureAwait(false);
        for (var c = 0; c < chunks.Count; c++)
        {
            var applied = (long[])results[c]!;
            for (var j = 0; j < applied.Length; j++)
                outcomes[chunks[c][j]] = applied[j] == 1 ? OnlineWriteOutcome.Applied : OnlineWriteOutcome.IgnoredAsOlder;
        }
        return outcomes;
    }

    /// <summary>
    /// Runs a loaded script once per chunk, pipelined; a NOSCRIPT reply (Redis restarted or flushed its scripts) means the
    /// call did not run, so the scripts are loaded again and those chunks resent. Returns each chunk's result.
    /// </summary>
    private async Task<RedisResult[]> EvaluateAsync(byte[] sha1, List<int[]> chunks, Func<int[], (RedisKey[] Keys, RedisValue[] Args)> call,
        string what, CancellationToken cancellationToken)
    {
        var results = new RedisResult[chunks.Count];
        var pending = Enumerable.Range(0, chunks.Count).ToList();
        for (var attempt = 0; ; attempt++)
        {
            var batch = _redis.GetDatabase().CreateBatch();
            var tasks = new Task<RedisResult>[pending.Count];
            for (var p = 0; p < pending.Count; p++)
            {
                var (keys, args) = call(chunks[pending[p]]);
                tasks[p] = batch.ScriptEvaluateAsync(sha1, keys, args);
            }
            Send(batch, what);
            await WaitAllAsync(tasks, cancellationToken).ConfigureAwait(false);
            var noScript = new List<int>();
            Exception? failure = null;
            for (var p = 0; p < tasks.Length; p++)
            {
                if (tasks[p].IsCompletedSuccessfully) results[pending[p]] = tasks[p].Result;
                else if (tasks[p].Exception?.InnerException is { } error && IsNoScript(error)) noScript.Add(pending[p]);
                else failure ??= tasks[p].Exception?.InnerException ?? new TaskCanceledException();
            }
            if (failure is not null) throw Unavailable(what, failure);
            if (noScript.Count == 0) return results;
            if (attempt >= 2) throw Unavailable($"{what}: the scripts did not stay loaded", null);
            await LoadScriptAsync().ConfigureAwait(false);
            pending = noScript;
        }
    }

    /// <summary>
    /// Splits row indices into script calls of at most <see cref="RowsPerCall"/> rows, keeping input order within each
    /// (entity, view). On Redis Cluster a script may only touch one slot, so rows are grouped by hash slot first.
    /// </summary>
    private List<int[]> Chunk(RedisKey[] keys)
    {
        var chunks = new List<int[]>();
        if (!_redis.GetServers().Any(s => s.ServerType == ServerType.Cluster))
        {
            for (var start = 0; start < keys.Length; start += RowsPerCall)
                chunks.Add(Enumerable.Range(start, Math.Min(RowsPerCall, keys.Length - start)).ToArray());
            return chunks;
        }
        var bySlot = new Dictionary<int, List<int>>();
        for (var i = 0; i < keys.Length; i++)
        {
            var slot = _redis.HashSlot(keys[i]);
            if (!bySlot.TryGetValue(slot, out var list)) bySlot[slot] = list = [];
            list.Add(i);
        }
        foreach (var list in bySlot.Values)
            foreach (var part in list.Chunk(RowsPerCall)) chunks.Add(part);
        return chunks;
    }

    /// <inheritdoc/>
    public async Task<OnlineReadResult> ReadAsync(IReadOnlyList<EntityKey> entities, IReadOnlyList<string> featureViews, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(featureViews);
        cancellationToken.ThrowIfCancellationRequested();
        var fields = new RedisValue[featureViews.Count];
        for (var v = 0; v < fields.Length; v++) fields[v] = "v:" + featureViews[v];
        var rows = new OnlineRow?[entities.Count * featureViews.Count];
        if (rows.Length == 0) return new OnlineReadResult(entities, featureViews, rows);
        var batch = _redis.GetDatabase().CreateBatch();
        var tasks = new Task<RedisValue[]>[entities.Count];
        for (var e = 0; e < tasks.Length; e++) tasks[e] = batch.HashGetAsync(HashKeyOf(entities[e]), fields);
        Send(batch, $"could not read {entities.Count} entities");
        await WaitAllAsync(tasks, cancellationToken).ConfigureAwait(false);
        for (var e = 0; e < tasks.Length; e++)
        {
            if (!tasks[e].IsCompletedSuccessfully)
                throw Unavailable($"could not read {entities.Count} entities", tasks[e].Exception?.InnerException);
            var values = tasks[e].Result;
            for (var v = 0; v < values.Length; v++)
                if (!values[v].IsNull)
                    rows[e * fields.Length + v] = OnlineRowCodec.Decode(entities[e], featureViews[v], (byte[])values[v]!);
        }
        return new OnlineReadResult(entities, featureViews, rows);
    }

    /// <inheritdoc/>
    public async Task<long> DeleteFeatureViewAsync(string project, string featureView, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(project);
        ArgumentException.ThrowIfNullOrEmpty(featureView);
        var pattern = EscapeGlob(_options.KeyPrefix + "{" + project + "/") + "*";
        RedisValue[] fields = ["v:" + featureView, "t:" + featureView];
        long deleted = 0;
        try
        {
            var db = _redis.GetDatabase();
            foreach (var endpoint in _redis.GetEndPoints())
            {
                var server = _redis.GetServer(endpoint);
                if (server.IsReplica) continue;
                var tasks = new List<Task<long>>();
                // SCAN walks the keyspace in pages; deletes go out pipelined while it walks.
                await foreach (var key in server.KeysAsync(db.Database, pattern, pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
                    tasks.Add(db.HashDeleteAsync(key, fields));
                foreach (var count in await Task.WhenAll(tasks).ConfigureAwait(false))
                    if (count > 0) deleted++;
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException) { throw Unavailable($"could not delete feature view '{featureView}' of project '{project}'", e); }
        return deleted;
    }

    /// <inheritdoc/>
    public async Task<long> DeleteEntityAsync(EntityKey entity, IReadOnlyList<string> featureViews, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(featureViews);
        var views = featureViews.Distinct(StringComparer.Ordinal).ToList();
        var key = HashKeyOf(entity);
        try
        {
            var db = _redis.GetDatabase();
            // One HDEL per view (value and version fields together), pipelined: the count says which views held a row.
            var deletes = views.Select(v => db.HashDeleteAsync(key, ["v:" + v, "t:" + v])).ToArray();
            var removed = await Task.WhenAll(deletes).WaitAsync(cancellationToken).ConfigureAwait(false);
            return removed.Count(r => r > 0);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw Unavailable($"could not delete the rows of {views.Count} feature views of an entity of project '{entity.Project}'", e);
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<EventIdClaim>> ClaimEventIdsAsync(string scope, IReadOnlyList<string> eventIds, string attempt, TimeSpan lease,
        CancellationToken cancellationToken = default)
    {
        OnlineEventIds.CheckArguments(scope, eventIds, lease, attempt);
        var claims = new EventIdClaim[eventIds.Count];
        var (keys, first) = DistinctKeys(scope, eventIds, claims);
        var chunks = Chunk(keys);
        RedisValue pendingValue = "p:" + attempt;
        RedisValue leaseMs = Math.Max(1, (long)Math.Ceiling(lease.TotalMilliseconds));
        RedisValue traceMs = (long)PendingTrace.TotalMilliseconds;
        var results = await EvaluateAsync(ClaimScriptSha1, chunks, chunk => (chunk.Select(i => keys[i]).ToArray(), [pendingValue, leaseMs, traceMs]),
            $"could not claim {eventIds.Count} event ids of scope '{scope}'", cancellationToken).ConfigureAwait(false);
        for (var c = 0; c < chunks.Count; c++)
        {
            var found = (long[])results[c]!;
            for (var j = 0; j < found.Length; j++)
                claims[first[chunks[c][j]]] = found[j] switch { 0 => EventIdClaim.Claimed, 2 => EventIdClaim.Pending, 3 => EventIdClaim.TakenOver, _ => EventIdClaim.Committed };
        }
        return claims;
    }

    /// <inheritdoc/>
    public async Task CommitEventIdsAsync(string scope, IReadOnlyList<string> eventIds, TimeSpan window, CancellationToken cancellationToken = default)
    {
        OnlineEventIds.CheckArguments(scope, eventIds, window);
        var (keys, _) = DistinctKeys(scope, eventIds, new EventIdClaim[eventIds.Count]);
        RedisValue windowMs = Math.Max(1, (long)Math.Ceiling(window.TotalMilliseconds));
        // A few script calls per batch rather than one SET per id; chunks keep to one hash slot on Redis Cluster.
        await EvaluateAsync(CommitScriptSha1, Chunk(keys), chunk => (chunk.Select(i => keys[i]).ToArray(), [windowMs]),
            $"could not commit {eventIds.Count} event ids of scope '{scope}'", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task ReleaseEventIdsAsync(string scope, IReadOnlyList<string> eventIds, string attempt, CancellationToken cancellationToken = default)
    {
        OnlineEventIds.CheckArguments(scope, eventIds, attempt: attempt);
        var (keys, _) = DistinctKeys(scope, eventIds, new EventIdClaim[eventIds.Count]);
        RedisValue pendingValue = "p:" + attempt;
        await EvaluateAsync(ReleaseScriptSha1, Chunk(keys), chunk => (chunk.Select(i => keys[i]).ToArray(), [pendingValue]),
            $"could not release {eventIds.Count} event ids of scope '{scope}'", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The keys of the distinct ids, in first-occurrence order, and for each the index of its first occurrence; a later
    /// occurrence is marked <see cref="EventIdClaim.Repeated"/> in <paramref name="claims"/>.
    /// </summary>
    private (RedisKey[] Keys, List<int> First) DistinctKeys(string scope, IReadOnlyList<string> eventIds, EventIdClaim[] claims)
    {
        var seen = new HashSet<string>(eventIds.Count, StringComparer.Ordinal);
        var keys = new List<RedisKey>(eventIds.Count);
        var first = new List<int>(eventIds.Count);
        for (var i = 0; i < eventIds.Count; i++)
        {
            if (!seen.Add(eventIds[i])) { claims[i] = EventIdClaim.Repeated; continue; }
            keys.Add(EventKeyOf(scope, eventIds[i]));
            first.Add(i);
        }
        return (keys.ToArray(), first);
    }

    /// <inheritdoc/>
    public async Task<OnlineStoreHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var latency = await _redis.GetDatabase().PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            return new OnlineStoreHealth(true, clock.Elapsed, $"Redis {Endpoints()} answered PING in {latency.TotalMilliseconds:0.###} ms");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new OnlineStoreHealth(false, clock.Elapsed, $"Redis {Endpoints()} did not answer PING: {e.Message}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection) await _redis.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Loads the scripts into every primary (a cluster has several); their SHA-1s are known in advance.</summary>
    private async Task LoadScriptAsync()
    {
        try
        {
            foreach (var endpoint in _redis.GetEndPoints())
            {
                var server = _redis.GetServer(endpoint);
                if (server.IsReplica || !server.IsConnected) continue;
                foreach (var script in Scripts) await server.ScriptLoadAsync(script).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException) { throw Unavailable("could not load the scripts", e); }
    }

    private static byte[] Sha1Of(string script) => SHA1.HashData(Encoding.UTF8.GetBytes(script));

    private static string VersionOf(OnlineRow row)
    {
        var ev = OnlineTime.ToMicros(row.EventTimestamp) + MicrosFromYearOneToUnixEpoch;
        var cr = row.CreatedTimestamp is { } c ? OnlineTime.ToMicros(c) + MicrosFromYearOneToUnixEpoch + 1 : 0;
        return string.Create(36, (ev, cr), static (span, v) =>
        {
            v.ev.TryFormat(span[..18], out _, "D18", CultureInfo.InvariantCulture);
            v.cr.TryFormat(span[18..], out _, "D18", CultureInfo.InvariantCulture);
        });
    }

    private RedisKey EventKeyOf(string scope, string id)
        => _options.KeyPrefix + "event:" + scope.Length.ToString(CultureInfo.InvariantCulture) + ":" + scope + ":" + id;


    /// <summary>Sends a batch; with no connection up (fail-fast) SE.Redis refuses at once, which is the retriable error here.</summary>
    private void Send(IBatch batch, string what)
    {
        try { batch.Execute(); }
        catch (Exception e) when (e is RedisException or TimeoutException) { throw Unavailable(what, e); }
    }

    private static bool IsNoScript(Exception e)
        => e is RedisServerException && e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    /// <summary>Waits for every task (they fail on their own: SE.Redis times each command out); cancellation stops the wait only.</summary>
    private static async Task WaitAllAsync(Task[] tasks, CancellationToken cancellationToken)
    {
        try { await Task.WhenAll(tasks).WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
        catch (Exception) { } // inspected per task by the caller
    }

    private OnlineStoreUnavailableException Unavailable(string what, Exception? inner)
        => new($"Redis online store {Endpoints()}: {what}{(inner is null ? "" : ": " + FirstClause(inner.Message))}", inner);

    // SE.Redis appends pages of connection diagnostics after the first ';'; they stay in the inner exception.
    private static string FirstClause(string message)
        => message.IndexOf("; ", StringComparison.Ordinal) is var i and > 0 ? message[..i] : message;

    private string Endpoints() => string.Join(",", _redis.GetEndPoints().Select(e => e.ToString()));

    private static string EscapeGlob(string s)
    {
        var b = new StringBuilder(s.Length + 4);
        foreach (var c in s)
        {
            if (c is '*' or '?' or '[' or ']' or '\\') b.Append('\\');
            b.Append(c);
        }
        return b.ToString();
    }
}
