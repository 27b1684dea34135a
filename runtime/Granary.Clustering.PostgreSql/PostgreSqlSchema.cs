using Npgsql;

namespace Granary.Clustering.PostgreSql;

/// <summary>Creates Granary's cluster tables when absent; serialized by an advisory lock so many silos may start at once.</summary>
internal static class PostgreSqlSchema
{
    // Arbitrary constant naming "Granary cluster schema" for pg_advisory_xact_lock.
    private const long SchemaLockKey = 0x4752_414E_4152_5901;

    private const string CreateSql = """
        CREATE TABLE IF NOT EXISTS granary_membership_version (
            cluster_id  text        PRIMARY KEY,
            version     integer     NOT NULL DEFAULT 0,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS granary_membership (
            cluster_id      text        NOT NULL REFERENCES granary_membership_version (cluster_id),
            address         text        NOT NULL,
            port            integer     NOT NULL,
            generation      bigint      NOT NULL,
            silo_name       text        NOT NULL,
            host_name       text        NOT NULL,
            status          integer     NOT NULL,
            suspect_times   text        NOT NULL DEFAULT '',
            start_time      timestamptz NOT NULL,
            i_am_alive_time timestamptz NOT NULL,
            etag            integer     NOT NULL DEFAULT 0,
            PRIMARY KEY (cluster_id, address, port, generation)
        );
        CREATE TABLE IF NOT EXISTS granary_reminders (
            cluster_id  text        NOT NULL,
            grain_type  text        NOT NULL,
            grain_key   text        NOT NULL,
            name        text        NOT NULL,
            start_at    timestamptz NOT NULL,
            period_ms   bigint      NOT NULL,
            etag        integer     NOT NULL DEFAULT 0,
            PRIMARY KEY (cluster_id, grain_type, grain_key, name)
        );
        """;

    public static async Task EnsureCreatedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", SchemaLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var create = new NpgsqlCommand(CreateSql, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
