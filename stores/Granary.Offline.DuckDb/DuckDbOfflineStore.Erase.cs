using System.Globalization;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

// Erasure: rows of one entity removed from the Parquet files of a source Granary writes.
public sealed partial class DuckDbOfflineStore
{
    /// <inheritdoc/>
    /// <remarks>
    /// Each Parquet file holding a matching row is rewritten without it under a temporary name (not matched by the folder
    /// glob), then every rewritten file is renamed over its original at once, inside the source's gate
    /// (<see cref="SingleFileGates"/>): a reader in this process sees every file before or every file after. A single-file
    /// source is rewritten under the lock its appends take, so an append and an erasure never lose each other's rows (a
    /// folder's appends add new files and need no lock).
    /// Files that lack a key column cannot hold the entity and are left alone.
    /// </remarks>
    public Task<long> DeleteRowsAsync(DataSource source, IReadOnlyList<KeyValuePair<string, object>> key, CancellationToken cancellationToken = default)
        => Task.Run(() => DeleteRows(source, key, cancellationToken), cancellationToken);

    private long DeleteRows(DataSource source, IReadOnlyList<KeyValuePair<string, object>> key, CancellationToken cancellationToken)
    {
        if (source is not FileSource file)
            throw new OfflineAppendException($"source '{source.Name}' is a {OfflineSources.KindOf(source)} source; the DuckDB offline store deletes rows of file (Parquet) sources only");
        if (key.Count == 0) throw new ArgumentException("an erasure names at least one key column", nameof(key));
        var path = Path.GetFullPath(file.Path, RepositoryPath ?? Directory.GetCurrentDirectory());
        if (!File.Exists(path) && !Directory.Exists(path)) return 0;
        // The lock appends to a single file take; erasures of a folder take it too, so two never rewrite the same file from the same original.
        var gate = SingleFileLocks.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        gate.Wait(cancellationToken);
        try
        {
            var files = File.Exists(path) ? [path] : Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).ToList();
            return Rewrite(path, files, key, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    // Rewrites the files among `files` that hold matching rows, then swaps them all in under the gate of `gated`.
    private long Rewrite(string gated, IReadOnlyList<string> files, IReadOnlyList<KeyValuePair<string, object>> key, CancellationToken cancellationToken)
    {
        using var connection = Connect();
        var matches = string.Join(" AND ", key.Select(k => $"{Sql.Identifier(k.Key)} = {Literal(k.Value)}"));
        var rewritten = new List<(string Temp, string File)>();
        long deleted = 0;
        try
        {
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var read = $"read_parquet({Sql.Literal(file)})";
                var columns = connection.Describe($"SELECT * FROM {read}").Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
                if (!key.All(k => columns.Contains(k.Key))) continue;
                var count = Convert.ToInt64(connection.QueryScalar($"SELECT count(*) FROM {read} WHERE {matches}"), CultureInfo.InvariantCulture);
                if (count == 0) continue;
                var temp = Path.Combine(Path.GetDirectoryName(file)!, $".erase-{Guid.NewGuid():N}.parquet.tmp");
                rewritten.Add((temp, file));
                // IS NOT TRUE keeps rows whose key is NULL (NOT of NULL would drop them too).
                connection.Execute($"COPY (SELECT * FROM {read} WHERE ({matches}) IS NOT TRUE) TO {Sql.Literal(temp)} (FORMAT parquet)");
                deleted += count;
            }
            if (rewritten.Count == 0) return 0;
            SingleFileGates.Replace(gated, () =>
            {
                foreach (var (temp, file) in rewritten) File.Move(temp, file, overwrite: true);
            }, cancellationToken);
            return deleted;
        }
        finally
        {
            foreach (var (temp, _) in rewritten) File.Delete(temp);
        }
    }

    private static string Literal(object value) => value switch
    {
        string s => Sql.Literal(s),
        bool b => b ? "TRUE" : "FALSE",
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"a key value of type {value.GetType().Name} cannot name an entity", nameof(value)),
    };
}
