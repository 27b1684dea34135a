using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using Granary.Audit;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Granary.Registry.Sql;

/// <summary>
/// The audit log on a SQL database: one row per record, keyed by its sequence number, so of two writers appending the
/// same number exactly one gets in (the other re-reads the end). SQLite and PostgreSQL share the schema and statements.
/// </summary>
public abstract class SqlAuditStore : SqlStore, IAuditStore
{
    /// <summary>The schema, valid on SQLite and PostgreSQL. Times are the chain's fixed UTC text (<see cref="AuditChain.FormatTime"/>).</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS granary_audit (
            sequence      BIGINT NOT NULL PRIMARY KEY,
            recorded_at   TEXT   NOT NULL,
            principal     TEXT   NOT NULL,
            auth_method   TEXT   NOT NULL,
            action        TEXT   NOT NULL,
            object_type   TEXT   NOT NULL,
            object_name   TEXT   NOT NULL,
            route         TEXT   NOT NULL,
            address       TEXT   NOT NULL,
            result        TEXT   NOT NULL,
            status        TEXT   NOT NULL,
            previous_hash TEXT   NOT NULL,
            hash          TEXT   NOT NULL,
            detail        TEXT   NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS granary_audit_principal ON granary_audit (principal, sequence);
        CREATE INDEX IF NOT EXISTS granary_audit_object ON granary_audit (object_name, sequence);
        """;

    private const string Columns = "sequence, recorded_at, principal, auth_method, action, object_type, object_name, route, address, result, status, previous_hash, hash, detail";

    /// <summary>Logs made before records had a detail gain the column (empty for every old record, which hashes as before).</summary>
    protected const string AddDetailColumn = "ALTER TABLE granary_audit ADD COLUMN detail TEXT NOT NULL DEFAULT ''";

    /// <inheritdoc/>
    protected override string SchemaText => Schema;

    /// <inheritdoc/>
    public async Task<AuditRecord?> GetLastAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = SqlRegistryStore.Command(connection, $"SELECT {Columns} FROM granary_audit ORDER BY sequence DESC LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <inheritdoc/>
    public async Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken = default)
    {
        if (records.Count == 0) return;
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            foreach (var record in records)
            {
                var e = record.Entry;
                await using var command = SqlRegistryStore.Command(connection, $"""
                    INSERT INTO granary_audit ({Columns})
                    VALUES (@sequence, @recorded_at, @principal, @auth_method, @action, @object_type, @object_name, @route, @address, @result, @status, @previous_hash, @hash, @detail)
                    """,
                    ("sequence", record.Sequence), ("recorded_at", AuditChain.FormatTime(e.Time)), ("principal", e.Principal), ("auth_method", e.AuthMethod),
                    ("action", e.Action), ("object_type", e.ObjectType), ("object_name", e.ObjectName), ("route", e.Route), ("address", e.Address),
                    ("result", e.Result), ("status", e.Status), ("previous_hash", record.PreviousHash), ("hash", record.Hash), ("detail", e.Detail));
                command.Transaction = tx;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new AuditSequenceConflictException(records[0].Sequence);
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<AuditRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = SqlRegistryStore.Command(connection, $"SELECT {Columns} FROM granary_audit ORDER BY sequence");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) yield return Read(reader);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<AuditRecord>> TailAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM granary_audit WHERE 1 = 1");
        var parameters = new List<(string, object)>();
        if (query.Principal is { Length: > 0 } principal)
        {
            sql.Append(" AND principal = @principal");
            parameters.Add(("principal", principal));
        }
        if (query.ObjectName is { Length: > 0 } objectName)
        {
            sql.Append(" AND object_name = @object_name");
            parameters.Add(("object_name", objectName));
        }
        sql.Append(" ORDER BY sequence DESC LIMIT @limit");
        parameters.Add(("limit", (long)Math.Max(1, query.Limit)));
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = SqlRegistryStore.Command(connection, sql.ToString(), [.. parameters]);
        var result = new List<AuditRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(Read(reader));
        result.Reverse();
        return result;
    }

    private static AuditRecord Read(DbDataReader r) => new(r.GetInt64(0), new AuditEntry
    {
        Time = AuditChain.ParseTime(r.GetString(1)), Principal = r.GetString(2), AuthMethod = r.GetString(3), Action = r.GetString(4),
        ObjectType = r.GetString(5), ObjectName = r.GetString(6), Route = r.GetString(7), Address = r.GetString(8), Result = r.GetString(9),
        Status = r.GetString(10), Detail = r.GetString(13),
    }, r.GetString(11), r.GetString(12));
}

/// <summary>The audit log in a SQLite file (embedded default <c>data/audit.db</c>); WAL, so tails read while the gateway appends.</summary>
public sealed class SqliteAuditStore : SqlAuditStore
{
    private readonly string _connectionString;

    /// <summary>A store in the file <paramref name="path"/>; its folder is created when missing.</summary>
    public SqliteAuditStore(string path)
    {
        _connectionString = SqlSchemas.SqliteConnectionString(path, out var full);
        DatabasePath = full;
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc/>
    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
        => await SqliteRegistryStore.OpenWaitingAsync(_connectionString, cancellationToken);

    /// <inheritdoc/>
    protected override async Task CreateSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using (var pragmas = connection.CreateCommand())
        {
            // WAL with full sync: a committed record survives a power cut, and readers do not block the appender.
            pragmas.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
        }
        await base.CreateSchemaAsync(connection, cancellationToken);
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT count(*) FROM pragma_table_info('granary_audit') WHERE name = 'detail'";
        if (Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0) return;
        await using var alter = connection.CreateCommand();
        alter.CommandText = AddDetailColumn;
        await alter.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException e) => e is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT
}

/// <summary>The audit log in PostgreSQL: shared by every gateway and silo of a cluster.</summary>
public sealed class PostgresAuditStore : SqlAuditStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>A store using the Npgsql connection string <paramref name="connectionString"/>.</summary>
    public PostgresAuditStore(string connectionString) => _dataSource = NpgsqlDataSource.Create(connectionString);

    /// <inheritdoc/>
    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await _dataSource.OpenConnectionAsync(cancellationToken);

    /// <inheritdoc/>
    protected override Task CreateSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
        => SqlSchemas.CreatePostgresAsync(connection, 7242318002, Schema + "\n" + AddDetailColumn.Replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS", StringComparison.Ordinal) + ";", cancellationToken);

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
