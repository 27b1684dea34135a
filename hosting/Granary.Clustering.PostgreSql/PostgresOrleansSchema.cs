using System.Reflection;
using Npgsql;

namespace Granary.Clustering.PostgreSql;

/// <summary>
/// Granary's PostgreSQL schema for Orleans' ADO.NET membership and reminder providers: the tables and the named
/// queries (table <c>OrleansQuery</c>) those providers read at start. Applying it is idempotent and safe to run from
/// several silos at once.
/// </summary>
public static class PostgresOrleansSchema
{
    /// <summary>The ADO.NET invariant the providers must be configured with for this schema.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Every query key the Orleans 10.4.2 membership and reminder providers require.</summary>
    public static IReadOnlyList<string> QueryKeys { get; } =
    [
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
        "MembershipReadAllKey", "MembershipReadRowKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey",
        "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "UpsertReminderRowKey", "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    // Any fixed 64-bit number: every process applying this schema takes the same transaction-scoped lock, so
    // concurrent CREATE TABLE IF NOT EXISTS (which can still collide in PostgreSQL's catalogs) never race.
    private const long AdvisoryLockKey = 0x4772616E_4F726C6C; // "GranOrll"

    private const string ResourceName = "Granary.Clustering.PostgreSql.orleans-postgresql.sql";

    /// <summary>The schema's SQL text, as embedded in this assembly.</summary>
    public static string Sql { get; } = ReadEmbeddedSql();

    /// <summary>
    /// Creates the tables and (re)writes the query texts in the database of <paramref name="connectionString"/>.
    /// Safe to call twice and from several processes at once.
    /// </summary>
    /// <exception cref="ArgumentException">The connection string is empty or not an Npgsql connection string.</exception>
    /// <exception cref="InvalidOperationException">The database refused the schema; the message names the server and database.</exception>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = ParseConnectionString(connectionString);
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var schema = new NpgsqlCommand(Sql, connection, transaction))
            {
                await schema.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or TimeoutException)
        {
            throw new InvalidOperationException(
                $"Could not apply Granary's Orleans schema to database '{builder.Database}' on {builder.Host}:{builder.Port}: {e.Message} " +
                "Check that the server runs, that the database exists and that the user may create tables.", e);
        }
    }

    /// <summary>Parses an Npgsql connection string, naming what is wrong with it.</summary>
    internal static NpgsqlConnectionStringBuilder ParseConnectionString(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException(
                "The PostgreSQL connection string for Orleans membership is empty; pass an Npgsql connection string such as 'Host=127.0.0.1;Port=5432;Username=postgres;Database=granary'.",
                nameof(connectionString));
        }
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"'{connectionString}' is not an Npgsql connection string ({e.Message}); use the form 'Host=127.0.0.1;Port=5432;Username=postgres;Database=granary'.",
                nameof(connectionString), e);
        }
    }

    private static string ReadEmbeddedSql()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing from {typeof(PostgresOrleansSchema).Assembly.FullName}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
