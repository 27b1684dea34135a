using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Granary.Registry.Sql;

/// <summary>A store on a SQL database: its connections, its schema and how its engine reports a duplicate key.</summary>
public abstract class SqlStore
{
    /// <summary>The schema statements, valid on SQLite and PostgreSQL.</summary>
    protected abstract string SchemaText { get; }

    /// <summary>Opens a new connection.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="e"/> is a primary-key violation.</summary>
    protected abstract bool IsUniqueViolation(DbException e);

    /// <summary>Runs the schema statements; engines differ in how they take several statements at once.</summary>
    protected virtual async Task CreateSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = SchemaText;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Creates the schema when missing.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await CreateSchemaAsync(connection, cancellationToken);
    }
}

/// <summary>What the SQL stores of this project (registry, audit log) share: opening a SQLite file, creating a PostgreSQL schema once.</summary>
internal static class SqlSchemas
{
    /// <summary>The pooled connection string of the SQLite file <paramref name="path"/> (made absolute in <paramref name="fullPath"/>); its folder is created when missing.</summary>
    public static string SqliteConnectionString(string path, out string fullPath)
    {
        fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        return new SqliteConnectionStringBuilder { DataSource = fullPath, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    /// <summary>
    /// Runs <paramref name="schema"/> on PostgreSQL under the advisory lock <paramref name="lockId"/>: silos starting together
    /// would otherwise both run CREATE TABLE IF NOT EXISTS and collide on the catalog.
    /// </summary>
    public static async Task CreatePostgresAsync(DbConnection connection, long lockId, string schema, CancellationToken cancellationToken)
    {
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var sql in new[] { $"SELECT pg_advisory_xact_lock({lockId})", schema })
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }
}
