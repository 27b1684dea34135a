using System.Globalization;
using System.Text.Json;
using Granary.Runtime;
using Granary.Runtime.Serialization;
using Granary.Runtime.Storage;
using Microsoft.Data.Sqlite;

namespace Granary.Persistence.Sqlite;

/// <summary>Settings of a SQLite grain storage provider.</summary>
public sealed class SqliteGrainStorageOptions
{
    /// <summary>Default <see cref="TableName"/>.</summary>
    public const string DefaultTableName = "granary_grain_state";

    /// <summary>ADO.NET connection string, e.g. <c>Data Source=granary.db</c>. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Table holding the states; created on first use. Default <c>granary_grain_state</c>.</summary>
    public string TableName { get; set; } = DefaultTableName;
}

/// <summary>
/// Grain storage in SQLite: a row per (grain type, grain key, state name) holding a GUID ETag and the JSON state.
/// Writes are <c>UPDATE … WHERE etag = @expected</c> (or an insert that must not conflict), so a stale writer changes nothing.
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private readonly string _name;
    private readonly string _connectionString;
    private readonly string _table;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    /// <summary>Creates the provider; the table is created on first use.</summary>
    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new ArgumentException($"SQLite grain storage '{name}' has no ConnectionString; set it, e.g. \"Data Source=granary.db\".", nameof(options));
        if (!System.Text.RegularExpressions.Regex.IsMatch(options.TableName, "^[A-Za-z_][A-Za-z0-9_]*$"))
            throw new ArgumentException($"SQLite grain storage '{name}' has table name '{options.TableName}'; use letters, digits and underscores only.", nameof(options));
        _name = name;
        _connectionString = options.ConnectionString;
        _table = options.TableName;
    }

    /// <inheritdoc/>
    public async Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, $"SELECT etag, data FROM {_table} WHERE grain_type = $type AND grain_key = $key AND state_name = $state", stateName, grainId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            grainState.ETag = reader.GetString(0);
            grainState.State = JsonSerializer.Deserialize(reader.GetString(1), GrainJson.TypeInfo<TState>()) ?? new TState();
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.State = new TState();
            grainState.RecordExists = false;
        }
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        var json = JsonSerializer.Serialize(grainState.State, GrainJson.TypeInfo<TState>());
        var newEtag = Guid.NewGuid().ToString("N");
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = grainState.ETag is null
            ? $"INSERT INTO {_table} (grain_type, grain_key, state_name, etag, data, modified_on) VALUES ($type, $key, $state, $etag, $data, $now) ON CONFLICT DO NOTHING"
            : $"UPDATE {_table} SET etag = $etag, data = $data, modified_on = $now WHERE grain_type = $type AND grain_key = $key AND state_name = $state AND etag = $expected";
        await using var command = Command(connection, sql, stateName, grainId);
        command.Parameters.AddWithValue("$etag", newEtag);
        command.Parameters.AddWithValue("$data", json);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        if (grainState.ETag is not null) command.Parameters.AddWithValue("$expected", grainState.ETag);
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            throw GrainStorageConflicts.EtagMismatch("Write", _name, stateName, grainId, await StoredEtagAsync(connection, stateName, grainId, cancellationToken).ConfigureAwait(false), grainState.ETag);
        grainState.ETag = newEtag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (grainState.ETag is null)
        {
            var stored = await StoredEtagAsync(connection, stateName, grainId, cancellationToken).ConfigureAwait(false);
            if (stored is not null) throw GrainStorageConflicts.EtagMismatch("Clear", _name, stateName, grainId, stored, null);
        }
        else
        {
            await using var command = Command(connection, $"DELETE FROM {_table} WHERE grain_type = $type AND grain_key = $key AND state_name = $state AND etag = $expected", stateName, grainId);
            command.Parameters.AddWithValue("$expected", grainState.ETag);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                throw GrainStorageConflicts.EtagMismatch("Clear", _name, stateName, grainId, await StoredEtagAsync(connection, stateName, grainId, cancellationToken).ConfigureAwait(false), grainState.ETag);
        }
        grainState.ETag = null;
        grainState.State = new TState();
        grainState.RecordExists = false;
    }

    private async Task<string?> StoredEtagAsync(SqliteConnection connection, string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"SELECT etag FROM {_table} WHERE grain_type = $type AND grain_key = $key AND state_name = $state", stateName, grainId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, string stateName, GrainId grainId)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$type", grainId.Type);
        command.Parameters.AddWithValue("$key", grainId.Key);
        command.Parameters.AddWithValue("$state", stateName);
        return command;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (!_schemaReady) await EnsureSchemaAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (SqliteException exception)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new GrainStorageException($"SQLite grain storage '{_name}' could not open '{_connectionString}': {exception.Message}", exception);
        }
    }

    private async Task EnsureSchemaAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await _schemaLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_schemaReady) return;
            await using var command = connection.CreateCommand();
            // WAL lets readers proceed during a write; the busy timeout makes concurrent writers wait instead of failing.
            command.CommandText = $"""
                PRAGMA journal_mode = WAL;
                PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS {_table} (
                    grain_type  TEXT NOT NULL,
                    grain_key   TEXT NOT NULL,
                    state_name  TEXT NOT NULL,
                    etag        TEXT NOT NULL,
                    data        TEXT NOT NULL,
                    modified_on TEXT NOT NULL,
                    PRIMARY KEY (grain_type, grain_key, state_name));
                """;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }
}
