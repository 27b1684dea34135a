using System.Data.Common;
using System.Globalization;
using Granary.Core.Security;

namespace Granary.Registry.Sql;

// API keys live beside the registry versions, so every gateway of a cluster reads the same keys.
public abstract partial class SqlRegistryStore : IApiKeyStore
{
    /// <inheritdoc/>
    public async Task AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "INSERT INTO granary_api_keys (id, principal, roles, salt, hash, created_at) VALUES (@id, @principal, @roles, @salt, @hash, @created)",
            ("id", key.Id), ("principal", key.Principal), ("roles", string.Join(',', key.Roles)), ("salt", key.Salt), ("hash", key.Hash), ("created", FormatTime(key.CreatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ApiKeyRecord?> GetApiKeyAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"{SelectKeys} WHERE id = @id", ("id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadKey(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"{SelectKeys} ORDER BY created_at, id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(cancellationToken)) keys.Add(ReadKey(reader));
        return keys;
    }

    /// <inheritdoc/>
    public async Task<bool> RevokeApiKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "UPDATE granary_api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL", ("id", id), ("at", FormatTime(at)));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <inheritdoc/>
    public async Task<long> GetApiKeyRevisionAsync(CancellationToken cancellationToken = default)
    {
        // Keys are never deleted: each creation adds a row, each revocation fills a revoked_at, so the sum only grows.
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT COUNT(*) + COUNT(revoked_at) FROM granary_api_keys");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private const string SelectKeys = "SELECT id, principal, roles, salt, hash, created_at, revoked_at FROM granary_api_keys";

    private static ApiKeyRecord ReadKey(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries), reader.GetString(3), reader.GetString(4),
        ParseTime(reader.GetString(5)), reader.IsDBNull(6) ? null : ParseTime(reader.GetString(6)));
}
