using System.Security.Cryptography;
using Granary.Erasure;

namespace Granary.Registry.Sql;

// Erasure tombstones live beside the registry versions, so every silo of a cluster drops the same erased rows.
public abstract partial class SqlRegistryStore : ITombstoneStore
{
    /// <inheritdoc/>
    public async Task<byte[]> GetErasureSecretAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Of two processes creating it at once the primary key lets one in; both then read the one stored.
        await using (var insert = Command(connection, "INSERT INTO granary_erasure_secret (id, secret) VALUES (1, @secret) ON CONFLICT (id) DO NOTHING",
                         ("secret", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)))))
            await insert.ExecuteNonQueryAsync(cancellationToken);
        await using var select = Command(connection, "SELECT secret FROM granary_erasure_secret WHERE id = 1");
        return Convert.FromHexString((string)(await select.ExecuteScalarAsync(cancellationToken))!);
    }

    /// <inheritdoc/>
    public async Task RecordTombstonesAsync(IReadOnlyList<Tombstone> tombstones, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var t in tombstones)
        {
            // Times are fixed-width ISO text, so the later one is the greater string.
            await using var command = Command(connection, """
                INSERT INTO granary_erasure_tombstones (project, feature_view, key_hash, erased_at) VALUES (@project, @view, @hash, @at)
                ON CONFLICT (project, feature_view, key_hash) DO UPDATE SET erased_at = excluded.erased_at
                WHERE excluded.erased_at > granary_erasure_tombstones.erased_at
                """, ("project", t.Project), ("view", t.FeatureView), ("hash", t.KeyHash), ("at", FormatTime(t.ErasedAt)));
            command.Transaction = tx;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<Tombstone>> ListTombstonesAsync(string project, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT feature_view, key_hash, erased_at FROM granary_erasure_tombstones WHERE project = @project", ("project", project));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<Tombstone>();
        while (await reader.ReadAsync(cancellationToken))
            list.Add(new Tombstone(project, reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))));
        return list;
    }
}
