using System.Data.Common;
using Npgsql;

namespace Granary.Registry.Sql;

/// <summary>The registry in PostgreSQL: shared by every silo and CLI of a cluster.</summary>
public sealed class PostgresRegistryStore : SqlRegistryStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>A store using the Npgsql connection string <paramref name="connectionString"/>.</summary>
    public PostgresRegistryStore(string connectionString, TimeProvider? time = null) : base(time ?? TimeProvider.System)
        => _dataSource = NpgsqlDataSource.Create(connectionString);

    /// <inheritdoc/>
    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
        => await _dataSource.OpenConnectionAsync(cancellationToken);

    /// <inheritdoc/>
    protected override async Task CreateSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // Two silos starting together may both run CREATE TABLE IF NOT EXISTS and collide on the catalog; a lock serializes them.
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = "SELECT pg_advisory_xact_lock(7242318001)";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = Schema;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException e)
        => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
