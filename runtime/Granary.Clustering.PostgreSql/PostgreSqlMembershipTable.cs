using System.Globalization;
using Granary.Runtime.Cluster.Membership;
using Npgsql;

namespace Granary.Clustering.PostgreSql;

/// <summary>
/// The membership table in PostgreSQL: one version row per cluster and one row per silo. Each insert or update
/// runs in one transaction that first bumps the version row conditioned on its old value, then writes the silo
/// row (conditioned on its ETag for updates); any mismatch rolls back and returns false.
/// </summary>
public sealed class PostgreSqlMembershipTable(NpgsqlDataSource dataSource, string clusterId) : IMembershipTable
{
    /// <summary>Opens a table over <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    public PostgreSqlMembershipTable(string connectionString, string clusterId)
        : this(NpgsqlDataSource.Create(connectionString), clusterId)
    {
    }

    /// <inheritdoc/>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await PostgreSqlSchema.EnsureCreatedAsync(dataSource, cancellationToken);
        await using var command = dataSource.CreateCommand(
            "INSERT INTO granary_membership_version (cluster_id) VALUES (@cluster) ON CONFLICT (cluster_id) DO NOTHING");
        command.Parameters.AddWithValue("cluster", clusterId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One repeatable-read transaction so the rows and the version are one consistent snapshot.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        int version;
        await using (var versionCommand = new NpgsqlCommand("SELECT version FROM granary_membership_version WHERE cluster_id = @cluster", connection, transaction))
        {
            versionCommand.Parameters.AddWithValue("cluster", clusterId);
            var value = await versionCommand.ExecuteScalarAsync(cancellationToken)
                ?? throw new InvalidOperationException($"Cluster '{clusterId}' has no version row in granary_membership_version; call InitializeAsync first.");
            version = (int)value;
        }
        var rows = new List<MembershipRow>();
        await using (var rowsCommand = new NpgsqlCommand("""
            SELECT address, port, generation, silo_name, host_name, status, suspect_times, start_time, i_am_alive_time, etag
            FROM granary_membership WHERE cluster_id = @cluster
            """, connection, transaction))
        {
            rowsCommand.Parameters.AddWithValue("cluster", clusterId);
            await using var reader = await rowsCommand.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var entry = new MembershipEntry
                {
                    Silo = new SiloAddress(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)),
                    SiloName = reader.GetString(3),
                    HostName = reader.GetString(4),
                    Status = (SiloStatus)reader.GetInt32(5),
                    SuspectTimes = MembershipEntry.ParseSuspectTimes(reader.GetString(6)),
                    StartTime = reader.GetFieldValue<DateTimeOffset>(7),
                    IAmAliveTime = reader.GetFieldValue<DateTimeOffset>(8),
                };
                rows.Add(new MembershipRow(entry, reader.GetInt32(9).ToString(CultureInfo.InvariantCulture)));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return new MembershipTableData(rows, new TableVersion(version, version.ToString(CultureInfo.InvariantCulture)));
    }

    /// <inheritdoc/>
    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion next, CancellationToken cancellationToken = default) =>
        WriteWithVersionBumpAsync(next, cancellationToken, (connection, transaction) =>
        {
            var command = new NpgsqlCommand("""
                INSERT INTO granary_membership
                    (cluster_id, address, port, generation, silo_name, host_name, status, suspect_times, start_time, i_am_alive_time, etag)
                VALUES (@cluster, @address, @port, @generation, @silo_name, @host_name, @status, @suspect_times, @start_time, @i_am_alive_time, 0)
                ON CONFLICT DO NOTHING
                """, connection, transaction);
            AddEntryParameters(command, entry);
            return command;
        });

    /// <inheritdoc/>
    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion next, CancellationToken cancellationToken = default)
    {
        if (!int.TryParse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture, out var expectedEtag)) return Task.FromResult(false);
        return WriteWithVersionBumpAsync(next, cancellationToken, (connection, transaction) =>
        {
            var command = new NpgsqlCommand("""
                UPDATE granary_membership
                SET silo_name = @silo_name, host_name = @host_name, status = @status, suspect_times = @suspect_times,
                    start_time = @start_time, i_am_alive_time = @i_am_alive_time, etag = etag + 1
                WHERE cluster_id = @cluster AND address = @address AND port = @port AND generation = @generation AND etag = @etag
                """, connection, transaction);
            AddEntryParameters(command, entry);
            command.Parameters.AddWithValue("etag", expectedEtag);
            return command;
        });
    }

    /// <inheritdoc/>
    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE granary_membership SET i_am_alive_time = @i_am_alive_time
            WHERE cluster_id = @cluster AND address = @address AND port = @port AND generation = @generation
            """);
        AddEntryParameters(command, entry);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new InvalidOperationException($"Silo {entry.Silo} has no row in cluster '{clusterId}'; it must insert its row before writing IAmAlive.");
        }
    }

    /// <inheritdoc/>
    public async Task<int> CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM granary_membership WHERE cluster_id = @cluster AND status = @dead AND i_am_alive_time < @before");
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("dead", (int)SiloStatus.Dead);
        command.Parameters.AddWithValue("before", beforeDate.ToUniversalTime());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> WriteWithVersionBumpAsync(TableVersion next, CancellationToken cancellationToken,
        Func<NpgsqlConnection, NpgsqlTransaction, NpgsqlCommand> createRowCommand)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var bump = new NpgsqlCommand("""
            UPDATE granary_membership_version SET version = @next, updated_at = now()
            WHERE cluster_id = @cluster AND version = @previous
            """, connection, transaction))
        {
            bump.Parameters.AddWithValue("cluster", clusterId);
            bump.Parameters.AddWithValue("next", next.Version);
            bump.Parameters.AddWithValue("previous", next.Version - 1);
            if (await bump.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }
        await using (var rowCommand = createRowCommand(connection, transaction))
        {
            if (await rowCommand.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private void AddEntryParameters(NpgsqlCommand command, MembershipEntry entry)
    {
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("address", entry.Silo.Host);
        command.Parameters.AddWithValue("port", entry.Silo.Port);
        command.Parameters.AddWithValue("generation", entry.Silo.Generation);
        command.Parameters.AddWithValue("silo_name", entry.SiloName);
        command.Parameters.AddWithValue("host_name", entry.HostName);
        command.Parameters.AddWithValue("status", (int)entry.Status);
        command.Parameters.AddWithValue("suspect_times", entry.FormatSuspectTimes());
        command.Parameters.AddWithValue("start_time", entry.StartTime.ToUniversalTime());
        command.Parameters.AddWithValue("i_am_alive_time", entry.IAmAliveTime.ToUniversalTime());
    }
}
