using System.Diagnostics;
using System.Threading.Channels;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Granary.Online.Sqlite;

/// <summary>
/// The online store on SQLite, the embedded default: one row per (entity, feature view) holding the encoded row
/// (<see cref="OnlineRowCodec"/>) beside its event and created microseconds. Newest-wins is one UPSERT whose update is
/// guarded by a WHERE on the timestamps, so it holds for every connection and process sharing the file. WAL mode lets
/// readers run beside a writer; a batch is one transaction.
/// </summary>
public sealed class SqliteOnlineStore : IOnlineStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS online_rows (
            entity_key   TEXT    NOT NULL,  -- canonical <project>/<join key>=<value>[;...]
            feature_view TEXT    NOT NULL,
            project      TEXT    NOT NULL,
            event_us     INTEGER NOT NULL,  -- UTC microseconds since the Unix epoch
            created_us   INTEGER,           -- NULL: the row has no created timestamp (older than any)
            row_data     BLOB    NOT NULL,
            expires_us   INTEGER,           -- NULL: never expires
            PRIMARY KEY (entity_key, feature_view)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS online_rows_by_view ON online_rows (project, feature_view);
        CREATE TABLE IF NOT EXISTS online_event_ids (
            scope      TEXT    NOT NULL,
            event_id   TEXT    NOT NULL,
            expires_us INTEGER NOT NULL,  -- committed: end of the deduplication window; pending: end of the lease
            attempt    TEXT,              -- NULL: committed; else the token of the attempt that holds it pending
            PRIMARY KEY (scope, event_id)
        ) WITHOUT ROWID;
        """;

    // Files made before two-phase claims have no attempt column; their claims are all committed, which NULL says.
    private const string AddAttemptColumnSql = "ALTER TABLE online_event_ids ADD COLUMN attempt TEXT";

    // The update runs only when the new row is not older than the held one: a later event, or the same event with a
    // created time at least as late (none counts as the oldest), or the held row has expired. changes() is then 1 for an
    // insert or an update and 0 when the held row won.
    private const string UpsertSql = """
        INSERT INTO online_rows (entity_key, feature_view, project, event_us, created_us, row_data, expires_us)
        VALUES ($entity, $view, $project, $event, $created, $data, $expires)
        ON CONFLICT (entity_key, feature_view) DO UPDATE SET
            event_us = excluded.event_us, created_us = excluded.created_us,
            row_data = excluded.row_data, expires_us = excluded.expires_us
        WHERE excluded.event_us > online_rows.event_us
           OR (excluded.event_us = online_rows.event_us
               AND coalesce(excluded.created_us, -9223372036854775808) >= coalesce(online_rows.created_us, -9223372036854775808))
           OR online_rows.expires_us <= $now
        """;

    // Mirrors Redis, where the whole entity hash expires: an applied write renews the expiry of the entity's other views.
    private const string RenewSql = "UPDATE online_rows SET expires_us = $expires WHERE entity_key = $entity AND expires_us > $now";

    // A claim inserts the id as pending, takes over a claim whose window or lease has passed, or renews the caller's own
    // pending claim; changes() is 0 when a live claim of another attempt (pending) or a commit holds it.
    private const string ClaimSql = """
        INSERT INTO online_event_ids (scope, event_id, expires_us, attempt) VALUES ($scope, $id, $expires, $attempt)
        ON CONFLICT (scope, event_id) DO UPDATE SET expires_us = excluded.expires_us, attempt = excluded.attempt
        WHERE online_event_ids.expires_us <= $now OR online_event_ids.attempt = excluded.attempt
        """;

    // Asked before the claim: a pending row of another attempt whose lease has passed is being taken over.
    private const string LapsedSql = """
        SELECT count(*) FROM online_event_ids
        WHERE scope = $scope AND event_id = $id AND attempt IS NOT NULL AND attempt <> $attempt AND expires_us <= $now
        """;

    private const string HolderSql = "SELECT attempt FROM online_event_ids WHERE scope = $scope AND event_id = $id";

    private const string CommitSql = """
        INSERT INTO online_event_ids (scope, event_id, expires_us, attempt) VALUES ($scope, $id, $expires, NULL)
        ON CONFLICT (scope, event_id) DO UPDATE SET expires_us = excluded.expires_us, attempt = NULL
        """;

    private const string ReleaseSql = "DELETE FROM online_event_ids WHERE scope = $scope AND event_id = $id AND attempt = $attempt";

    private readonly string _connectionString;
    private readonly SqliteOnlineStoreOptions _options;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    private SqliteOnlineStore(string connectionString, SqliteOnlineStoreOptions options)
    {
        _connectionString = connectionString;
        _options = options;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Opens (creating when missing) the database file, switches it to WAL mode and creates the tables.</summary>
    /// <exception cref="OnlineStoreUnavailableException">The file cannot be opened or written.</exception>
    public static async Task<SqliteOnlineStore> OpenAsync(SqliteOnlineStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Path);
        if (options.KeyTtl is { } ttl && ttl <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), ttl, "KeyTtl must be positive, or null for no expiry");
        var full = System.IO.Path.GetFullPath(options.Path);
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
        var store = new SqliteOnlineStore(cs, options);
        try
        {
            if (System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnlineStoreUnavailableException($"SQLite online store '{full}': cannot create its folder: {e.Message}", e);
        }
        await store.RunAsync($"open '{full}'", connection =>
        {
            Execute(connection, "PRAGMA journal_mode=WAL;");
            Execute(connection, Schema);
            if (!HasColumn(connection, "online_event_ids", "attempt"))
            {
                try { Execute(connection, AddAttemptColumnSql); }
                catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.Ordinal)) { } // another process added it
            }
            store.PurgeExpired(connection);
            return 0;
        }, CancellationToken.None).ConfigureAwait(false);
        return store;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Group commit: concurrent callers (one entity grain each) are queued to one writer, which applies everything waiting
    /// in ONE transaction, in arrival order, and answers each caller with its own rows' outcomes once the commit is durable.
    /// SQLite has a single writer anyway; one fsync for many callers is what makes per-entity writes affordable.
    /// </remarks>
    public Task<IReadOnlyList<OnlineWriteOutcome>> WriteAsync(IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        cancellationToken.ThrowIfCancellationRequested();
        // Encode before queueing: a row that cannot be encoded fails this call with nothing written.
        var data = new byte[rows.Count][];
        for (var i = 0; i < rows.Count; i++) data[i] = OnlineRowCodec.Encode(rows[i]);
        var pending = new PendingWrite(rows, data);
        if (!_writes.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(SqliteOnlineStore));
        return pending.Done.Task;
    }

    private sealed record PendingWrite(IReadOnlyList<OnlineRow> Rows, byte[][] Data)
    {
        public TaskCompletionSource<IReadOnlyList<OnlineWriteOutcome>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Most rows one group commit takes, so a burst does not hold the write lock for long.</summary>
    private const int MaxRowsPerCommit = 20_000;

    private async Task WriteLoopAsync()
    {
        var reader = _writes.Reader;
        var batch = new List<PendingWrite>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var rows = 0;
            while (rows < MaxRowsPerCommit && reader.TryRead(out var next))
            {
                batch.Add(next);
                rows += next.Rows.Count;
            }
            try
            {
                var outcomes = await RunAsync($"write {rows} rows", connection => WriteTransaction(connection, batch), CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(outcomes[i]);
            }
            catch (Exception e)
            {
                // The transaction rolled back: nothing of any caller in it is stored, and each is told so.
                foreach (var write in batch) write.Done.TrySetException(e);
            }
        }
    }

    private OnlineWriteOutcome[][] WriteTransaction(SqliteConnection connection, List<PendingWrite> batch)
    {
        var now = OnlineTime.ToMicros(_options.Clock.GetUtcNow());
        object expires = _options.KeyTtl is { } ttl ? now + (long)(ttl.Ticks / 10) : DBNull.Value;
        using var tx = connection.BeginTransaction(deferred: false);
        using var upsert = Command(connection, tx, UpsertSql, "$entity", "$view", "$project", "$event", "$created", "$data", "$expires", "$now");
        using var renew = _options.KeyTtl is null ? null : Command(connection, tx, RenewSql, "$expires", "$entity", "$now");
        upsert.Parameters["$expires"].Value = expires;
        upsert.Parameters["$now"].Value = now;
        var (entity, view, project, eventUs, createdUs, rowData) = (upsert.Parameters["$entity"], upsert.Parameters["$view"],
            upsert.Parameters["$project"], upsert.Parameters["$event"], upsert.Parameters["$created"], upsert.Parameters["$data"]);
        if (renew is not null)
        {
            renew.Parameters["$expires"].Value = expires;
            renew.Parameters["$now"].Value = now;
        }
        var all = new OnlineWriteOutcome[batch.Count][];
        for (var b = 0; b < batch.Count; b++)
        {
            var (rows, data) = (batch[b].Rows, batch[b].Data);
            var outcomes = all[b] = new OnlineWriteOutcome[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                entity.Value = row.Entity.Canonical;
                view.Value = row.FeatureView;
                project.Value = row.Entity.Project;
                eventUs.Value = OnlineTime.ToMicros(row.EventTimestamp);
                createdUs.Value = row.CreatedTimestamp is { } c ? OnlineTime.ToMicros(c) : DBNull.Value;
                rowData.Value = data[i];
                var applied = upsert.ExecuteNonQuery() == 1;
                outcomes[i] = applied ? OnlineWriteOutcome.Applied : OnlineWriteOutcome.IgnoredAsOlder;
                if (applied && renew is not null)
                {
                    renew.Parameters["$entity"].Value = row.Entity.Canonical;
                    renew.ExecuteNonQuery();
                }
            }
        }
        tx.Commit();
        return all;
    }

    /// <inheritdoc/>
    public Task<OnlineReadResult> ReadAsync(IReadOnlyList<EntityKey> entities, IReadOnlyList<string> featureViews, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(featureViews);
        var rows = new OnlineRow?[entities.Count * featureViews.Count];
        if (rows.Length == 0) return Task.FromResult(new OnlineReadResult(entities, featureViews, rows));
        return RunAsync($"read {entities.Count} entities", connection =>
        {
            var firstOfEntity = new Dictionary<string, EntityKey>(entities.Count, StringComparer.Ordinal);
            foreach (var entity in entities) firstOfEntity.TryAdd(entity.Canonical, entity);
            var views = new HashSet<string>(featureViews, StringComparer.Ordinal);
            // One query for the whole request: the key lists go in as JSON arrays (no parameter-count limit).
            using var cmd = Command(connection, null, """
                SELECT entity_key, feature_view, row_data FROM online_rows
                WHERE entity_key IN (SELECT value FROM json_each($entities))
                  AND feature_view IN (SELECT value FROM json_each($views))
                  AND (expires_us IS NULL OR expires_us > $now)
                """, "$entities", "$views", "$now");
            cmd.Parameters["$entities"].Value = JsonSerializer.Serialize(firstOfEntity.Keys);
            cmd.Parameters["$views"].Value = JsonSerializer.Serialize(views);
            cmd.Parameters["$now"].Value = OnlineTime.ToMicros(_options.Clock.GetUtcNow());
            var found = new Dictionary<(string Entity, string View), OnlineRow>();
            using (var reader = cmd.ExecuteReader())
            {
                while (reader.Read())
                {
                    var (entity, view) = (reader.GetString(0), reader.GetString(1));
                    found[(entity, view)] = OnlineRowCodec.Decode(firstOfEntity[entity], view, (byte[])reader.GetValue(2));
                }
            }
            for (var e = 0; e < entities.Count; e++)
                for (var v = 0; v < featureViews.Count; v++)
                    rows[e * featureViews.Count + v] = found.GetValueOrDefault((entities[e].Canonical, featureViews[v]));
            return new OnlineReadResult(entities, featureViews, rows);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<long> DeleteFeatureViewAsync(string project, string featureView, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(project);
        ArgumentException.ThrowIfNullOrEmpty(featureView);
        return RunAsync($"delete feature view '{featureView}' of project '{project}'", connection =>
        {
            using var cmd = Command(connection, null, "DELETE FROM online_rows WHERE project = $project AND feature_view = $view", "$project", "$view");
            cmd.Parameters["$project"].Value = project;
            cmd.Parameters["$view"].Value = featureView;
            return (long)cmd.ExecuteNonQuery();
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<long> DeleteEntityAsync(EntityKey entity, IReadOnlyList<string> featureViews, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(featureViews);
        return RunAsync($"delete the rows of {featureViews.Count} feature views of an entity of project '{entity.Project}'", connection =>
        {
            using var tx = connection.BeginTransaction();
            using var cmd = Command(connection, tx, "DELETE FROM online_rows WHERE entity_key = $entity AND feature_view = $view", "$entity", "$view");
            cmd.Parameters["$entity"].Value = entity.Canonical;
            long deleted = 0;
            foreach (var view in featureViews.Distinct(StringComparer.Ordinal))
            {
                cmd.Parameters["$view"].Value = view;
                deleted += cmd.ExecuteNonQuery();
            }
            tx.Commit();
            return deleted;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<EventIdClaim>> ClaimEventIdsAsync(string scope, IReadOnlyList<string> eventIds, string attempt, TimeSpan lease,
        CancellationToken cancellationToken = default)
    {
        OnlineEventIds.CheckArguments(scope, eventIds, lease, attempt);
        return RunAsync<IReadOnlyList<EventIdClaim>>($"claim {eventIds.Count} event ids of scope '{scope}'", connection =>
        {
            var now = OnlineTime.ToMicros(_options.Clock.GetUtcNow());
            var claims = new EventIdClaim[eventIds.Count];
            var seen = new HashSet<string>(eventIds.Count, StringComparer.Ordinal);
            using var tx = connection.BeginTransaction(deferred: false);
            using var claim = Command(connection, tx, ClaimSql, "$scope", "$id", "$expires", "$attempt", "$now");
            using var holder = Command(connection, tx, HolderSql, "$scope", "$id");
            using var lapsed = Command(connection, tx, LapsedSql, "$scope", "$id", "$attempt", "$now");
            claim.Parameters["$scope"].Value = holder.Parameters["$scope"].Value = lapsed.Parameters["$scope"].Value = scope;
            claim.Parameters["$expires"].Value = now + lease.Ticks / 10;
            claim.Parameters["$attempt"].Value = lapsed.Parameters["$attempt"].Value = attempt;
            claim.Parameters["$now"].Value = lapsed.Parameters["$now"].Value = now;
            for (var i = 0; i < claims.Length; i++)
            {
                if (!seen.Add(eventIds[i])) { claims[i] = EventIdClaim.Repeated; continue; }
                claim.Parameters["$id"].Value = holder.Parameters["$id"].Value = lapsed.Parameters["$id"].Value = eventIds[i];
                var takeover = (long)lapsed.ExecuteScalar()! > 0;
                if (claim.ExecuteNonQuery() == 1) { claims[i] = takeover ? EventIdClaim.TakenOver : EventIdClaim.Claimed; continue; }
                claims[i] = holder.ExecuteScalar() is string ? EventIdClaim.Pending : EventIdClaim.Committed;
            }
            tx.Commit();
            return claims;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task CommitEventIdsAsync(string scope, IReadOnlyList<string> eventIds, TimeSpan window, CancellationToken cancellationToken = default)
    {
        OnlineEventIds.CheckArguments(scope, eventIds, window);
        return RunAsync($"commit {eventIds.Count} event ids of scope '{scope}'", connection =>
        {
            using var tx = connection.BeginTransaction(deferred: false);
            using var cmd = Command(connection, tx, CommitSql, "$scope", "$id", "$expires");
            cmd.Parameters["$scope"].Value = scope;
            cmd.Parameters["$expires"].Value = OnlineTime.ToMicros(_options.Clock.GetUtcNow()) + window.Ticks / 10;
            foreach (var id in eventIds)
            {
                cmd.Parameters["$id"].Value = id;
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task ReleaseEventIdsAsync(string scope, IReadOnlyList<string> eventIds, string attempt, CancellationToken cancellationToken = default)
    {
        OnlineEventIds.CheckArguments(scope, eventIds, attempt: attempt);
        return RunAsync($"release {eventIds.Count} event ids of scope '{scope}'", connection =>
        {
            using var tx = connection.BeginTransaction(deferred: false);
            using var cmd = Command(connection, tx, ReleaseSql, "$scope", "$id", "$attempt");
            cmd.Parameters["$scope"].Value = scope;
            cmd.Parameters["$attempt"].Value = attempt;
            foreach (var id in eventIds)
            {
                cmd.Parameters["$id"].Value = id;
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
            return 0;
        }, cancellationToken);
    }

    /// <summary>Deletes expired rows and event-id claims (reads already skip them); also done on open.</summary>
    public Task PurgeExpiredAsync(CancellationToken cancellationToken = default)
        => RunAsync("purge expired rows", connection => { PurgeExpired(connection); return 0; }, cancellationToken);

    /// <inheritdoc/>
    public async Task<OnlineStoreHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await RunAsync("probe", connection => Execute(connection, "SELECT count(*) FROM online_event_ids WHERE 0"), cancellationToken).ConfigureAwait(false);
            return new OnlineStoreHealth(true, clock.Elapsed, $"SQLite '{_options.Path}' answered");
        }
        catch (OnlineStoreUnavailableException e)
        {
            return new OnlineStoreHealth(false, clock.Elapsed, e.Message);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // Writes already queued are committed (their callers are waiting for them); new ones are refused.
        _writes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        // Pooled connections keep the file open; release this file's so it can be moved or deleted.
        using (var connection = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(connection);
    }

    private void PurgeExpired(SqliteConnection connection)
    {
        var now = OnlineTime.ToMicros(_options.Clock.GetUtcNow());
        // A lapsed pending claim is kept a day longer, so a retry that takes it over knows it (EventIdClaim.TakenOver).
        using var cmd = Command(connection, null, """
            DELETE FROM online_rows WHERE expires_us <= $now;
            DELETE FROM online_event_ids WHERE expires_us <= (CASE WHEN attempt IS NULL THEN $now ELSE $now - 86400000000 END);
            """, "$now");
        cmd.Parameters["$now"].Value = now;
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a pooled connection off the caller's thread (SQLite calls block; an Orleans grain
    /// must not block its scheduler), mapping SQLite failures to the retriable online-store error.
    /// </summary>
    private Task<T> RunAsync<T>(string what, Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.Run(() =>
        {
            try
            {
                using var connection = new SqliteConnection(_connectionString);
                connection.Open();
                Execute(connection, "PRAGMA synchronous=FULL;");
                return work(connection);
            }
            catch (SqliteException e)
            {
                throw new OnlineStoreUnavailableException($"SQLite online store '{_options.Path}': could not {what}: {e.Message}", e);
            }
            catch (IOException e)
            {
                throw new OnlineStoreUnavailableException($"SQLite online store '{_options.Path}': could not {what}: {e.Message}", e);
            }
        }, cancellationToken);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql, params string[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var p in parameters) cmd.Parameters.Add(new SqliteParameter(p, null));
        return cmd;
    }

    private static bool HasColumn(SqliteConnection connection, string table, string column)
    {
        using var cmd = Command(connection, null, "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column", "$table", "$column");
        cmd.Parameters["$table"].Value = table;
        cmd.Parameters["$column"].Value = column;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static int Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteNonQuery();
    }

}
