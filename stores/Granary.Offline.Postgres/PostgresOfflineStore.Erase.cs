using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;
using Npgsql;

namespace Granary.Offline.Postgres;

// Erasure: rows of one entity deleted from a table source Granary appends to.
public sealed partial class PostgresOfflineStore
{
    /// <inheritdoc/>
    /// <remarks>One DELETE in one statement (all or nothing); key values are parameters. Query sources cannot be changed.</remarks>
    public async Task<long> DeleteRowsAsync(DataSource source, IReadOnlyList<KeyValuePair<string, object>> key, CancellationToken cancellationToken = default)
    {
        if (source is not PostgresSource { Table: { Length: > 0 } table })
            throw new OfflineAppendException(source is PostgresSource
                    ? $"PostgreSQL source '{source.Name}' is a query; Granary deletes rows only from table sources"
                    : $"source '{source.Name}' is a {OfflineSources.KindOf(source)} source; the PostgreSQL offline store deletes rows of PostgreSQL table sources only",
                "erase the entity where the query's data lives");
        if (key.Count == 0) throw new ArgumentException("an erasure names at least one key column", nameof(key));
        await using var pg = await OpenAsync(cancellationToken);
        var where = string.Join(" AND ", key.Select((k, i) => $"{Sql.Identifier(k.Key)} = @k{i}"));
        await using var command = new NpgsqlCommand($"DELETE FROM {table} WHERE {where}", pg);
        for (var i = 0; i < key.Count; i++) command.Parameters.AddWithValue($"k{i}", key[i].Value);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
