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
    protected override Task CreateSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
        => SqlSchemas.CreatePostgresAsync(connection, 7242318001, SchemaText, cancellationToken);

    /// <inheritdoc/>
    protected override string QuarantineSchema => PostgresQuarantineSchema;

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException e)
        => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
