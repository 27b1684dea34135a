using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Granary.Registry.Sql;

/// <summary>The registry in a SQLite file: the embedded default. Several processes may share the file (WAL mode, busy waits).</summary>
public sealed class SqliteRegistryStore : SqlRegistryStore
{
    private readonly string _connectionString;

    /// <summary>A store in the file <paramref name="path"/>; its folder is created when missing.</summary>
    public SqliteRegistryStore(string path, TimeProvider? time = null) : base(time ?? TimeProvider.System)
    {
        _connectionString = SqlSchemas.SqliteConnectionString(path, out var full);
        DatabasePath = full;
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc/>
    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
        => await OpenWaitingAsync(_connectionString, cancellationToken);

    /// <summary>Opens <paramref name="connectionString"/> with a busy timeout: writers wait for each other instead of failing at once with SQLITE_BUSY.</summary>
    internal static async Task<SqliteConnection> OpenWaitingAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    /// <inheritdoc/>
    protected override async Task CreateSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using (var wal = connection.CreateCommand())
        {
            // WAL lets readers (every silo's registry reads) proceed while an apply writes.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }
        await base.CreateSchemaAsync(connection, cancellationToken);
    }

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException e)
        => e is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT
}
