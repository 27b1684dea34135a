using System.Globalization;
using Granary.Runtime;
using Granary.Runtime.Cluster.Reminders;
using Npgsql;

namespace Granary.Clustering.PostgreSql;

/// <summary>The reminder table in PostgreSQL (<c>granary_reminders</c>), one row per grain and reminder name; the ETag is an integer bumped on each write.</summary>
public sealed class PostgreSqlReminderTable(NpgsqlDataSource dataSource, string clusterId) : IReminderTable
{
    /// <summary>Opens a table over <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    public PostgreSqlReminderTable(string connectionString, string clusterId)
        : this(NpgsqlDataSource.Create(connectionString), clusterId)
    {
    }

    /// <inheritdoc/>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => PostgreSqlSchema.EnsureCreatedAsync(dataSource, cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT grain_type, grain_key, name, start_at, period_ms, etag FROM granary_reminders WHERE cluster_id = @cluster");
        command.Parameters.AddWithValue("cluster", clusterId);
        return await ReadEntriesAsync(command, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ReminderEntry?> ReadRowAsync(GrainId grain, string name, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT grain_type, grain_key, name, start_at, period_ms, etag FROM granary_reminders
            WHERE cluster_id = @cluster AND grain_type = @type AND grain_key = @key AND name = @name
            """);
        AddKey(command, grain, name);
        var rows = await ReadEntriesAsync(command, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <inheritdoc/>
    public async Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO granary_reminders (cluster_id, grain_type, grain_key, name, start_at, period_ms, etag)
            VALUES (@cluster, @type, @key, @name, @start_at, @period_ms, 0)
            ON CONFLICT (cluster_id, grain_type, grain_key, name)
            DO UPDATE SET start_at = EXCLUDED.start_at, period_ms = EXCLUDED.period_ms, etag = granary_reminders.etag + 1
            RETURNING etag
            """);
        AddKey(command, entry.Grain, entry.Name);
        command.Parameters.AddWithValue("start_at", entry.StartAt.ToUniversalTime());
        command.Parameters.AddWithValue("period_ms", (long)entry.Period.TotalMilliseconds);
        var etag = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        return etag.ToString(CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public async Task<bool> RemoveRowAsync(GrainId grain, string name, string etag, CancellationToken cancellationToken = default)
    {
        if (!int.TryParse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture, out var expected)) return false;
        await using var command = dataSource.CreateCommand("""
            DELETE FROM granary_reminders
            WHERE cluster_id = @cluster AND grain_type = @type AND grain_key = @key AND name = @name AND etag = @etag
            """);
        AddKey(command, grain, name);
        command.Parameters.AddWithValue("etag", expected);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private void AddKey(NpgsqlCommand command, GrainId grain, string name)
    {
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("type", grain.Type);
        command.Parameters.AddWithValue("key", grain.Key);
        command.Parameters.AddWithValue("name", name);
    }

    private static async Task<IReadOnlyList<ReminderEntry>> ReadEntriesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new ReminderEntry(
                new GrainId(reader.GetString(0), reader.GetString(1)),
                reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                reader.GetInt32(5).ToString(CultureInfo.InvariantCulture)));
        }
        return entries;
    }
}
