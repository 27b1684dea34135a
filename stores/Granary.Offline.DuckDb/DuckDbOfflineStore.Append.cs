using System.Collections.Concurrent;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

// Offline appends (pushes with to: offline) live apart from the retrieval code of this class.
public sealed partial class DuckDbOfflineStore
{
    /// <inheritdoc/>
    /// <remarks>
    /// A folder source gets a new Parquet file <c>push-&lt;UTC time&gt;-&lt;id&gt;.parquet</c> (read from then on by the
    /// folder's <c>**/*.parquet</c> glob). A single-file source is rewritten as the old rows plus the new ones. Either way
    /// the file is written under a temporary name that the glob does not match and then renamed into place, so a reader
    /// sees the whole file or none of it; and a reader of a single file in this process finishes its operation before the
    /// file is replaced (<see cref="SingleFileGates"/>), since DuckDB opens the path more than once per operation.
    /// Integer and timestamp columns the source already has keep their stored types (a pushed BIGINT lands in an INTEGER
    /// column as INTEGER, an out-of-range value fails the append), so a folder's files agree on key and time types; floats
    /// are never narrowed (readers unify FLOAT, DOUBLE and DECIMAL files by name). A path that does not exist yet becomes
    /// a folder, or a single file when it ends in <c>.parquet</c>.
    /// </remarks>
    public Task<long> AppendRowsAsync(DataSource source, OfflineRowBatch rows, CancellationToken cancellationToken = default)
        => Task.Run(() => Append(source, rows, cancellationToken), cancellationToken);

    // Rewrites of one single-file source, from any store instance of this process, go one at a time.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> SingleFileLocks = new(StringComparer.Ordinal);

    private long Append(DataSource source, OfflineRowBatch batch, CancellationToken cancellationToken)
    {
        batch.CheckShape();
        if (source is not FileSource file)
            throw new OfflineAppendException($"source '{source.Name}' is a {OfflineSources.KindOf(source)} source; the DuckDB offline store appends to file (Parquet) sources only");
        if (batch.Rows.Count == 0) return 0;
        var path = Path.GetFullPath(file.Path, RepositoryPath ?? Directory.GetCurrentDirectory());
        var singleFile = File.Exists(path) || (!Directory.Exists(path) && path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase));
        var folder = singleFile ? Path.GetDirectoryName(path)! : path;
        Directory.CreateDirectory(folder);

        using var connection = Connect();
        var staging = "granary_append_" + Guid.NewGuid().ToString("N");
        // Temporary names end in .tmp: the folder glob (**/*.parquet) never reads a half-written file.
        var temp = Path.Combine(folder, $".push-{Guid.NewGuid():N}.parquet.tmp");
        connection.Execute($"CREATE TEMP TABLE {staging} ({string.Join(", ", batch.Columns.Select(c => $"{Sql.Identifier(c.Name)} {DuckDbTypeMap.SqlTypeOf(c.Type)}"))})");
        try
        {
            using (var appender = connection.CreateAppender(staging))
            {
                foreach (var values in batch.Rows)
                {
                    var row = appender.CreateRow();
                    foreach (var value in values) AppendValue(row, value);
                    row.EndRow();
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (!singleFile)
            {
                var existing = ExistingColumns(connection, source, path, singleFile);
                var select = Select(batch, staging, existing);
                if (batch.SkipStoredCopies && existing is not null)
                {
                    // Concurrent appends to a folder add files and never replace one, so this read needs no gate.
                    select = WithoutStoredCopies(connection, batch, select, ParquetSources.ReadExpression(source, RepositoryPath));
                    if (select is null) return 0;
                }
                var copied = connection.Execute($"COPY ({select}) TO {Sql.Literal(temp)} (FORMAT parquet)");
                File.Move(temp, Path.Combine(folder, $"push-{DateTime.UtcNow:yyyyMMdd'T'HHmmssfffffff}Z-{Guid.NewGuid():N}.parquet"));
                return batch.SkipStoredCopies ? copied : batch.Rows.Count;
            }
            var gate = SingleFileLocks.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
            gate.Wait(cancellationToken);
            try
            {
                // Inside the gate: no other append of this process replaces the file while this one reads it.
                var existing = ExistingColumns(connection, source, path, singleFile);
                var select = Select(batch, staging, existing);
                if (batch.SkipStoredCopies && existing is not null)
                {
                    select = WithoutStoredCopies(connection, batch, select, $"read_parquet({Sql.Literal(path)})");
                    if (select is null) return 0;
                }
                var union = existing is null ? select : $"SELECT * FROM read_parquet({Sql.Literal(path)}) UNION ALL BY NAME {select}";
                connection.Execute($"COPY ({union}) TO {Sql.Literal(temp)} (FORMAT parquet)");
                SingleFileGates.Replace(path, () => File.Move(temp, path, overwrite: true), cancellationToken);
                return batch.SkipStoredCopies ? (long)connection.QueryScalar($"SELECT count(*) FROM ({select})")! : batch.Rows.Count;
            }
            finally
            {
                gate.Release();
            }
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {staging}");
            // A failed write leaves no temporary file behind (after a rename there is none).
            File.Delete(temp);
        }
    }

    // The batch's rows minus those the source already holds (EXCEPT ALL: an equal row stored once removes one copy),
    // materialized as a temporary table; null when nothing is left to append.
    private static string? WithoutStoredCopies(DuckDBConnection connection, OfflineRowBatch batch, string select, string read)
    {
        var fresh = "granary_fresh_" + Guid.NewGuid().ToString("N");
        var columns = string.Join(", ", batch.Columns.Select(c => Sql.Identifier(c.Name)));
        connection.Execute($"CREATE TEMP TABLE {fresh} AS ({select}) EXCEPT ALL (SELECT {columns} FROM {read})");
        return (long)connection.QueryScalar($"SELECT count(*) FROM {fresh}")! == 0 ? null : $"SELECT * FROM {fresh}";
    }

    private static string Select(OfflineRowBatch batch, string staging, Dictionary<string, string>? existing)
        => $"SELECT {string.Join(", ", batch.Columns.Select(c => Cast(c, existing)))} FROM {staging}";

    // The stored column types of the source, or null when it has no Parquet file yet.
    private Dictionary<string, string>? ExistingColumns(DuckDBConnection connection, DataSource source, string path, bool singleFile)
    {
        if (singleFile ? !File.Exists(path) : !Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).Any()) return null;
        return connection.Describe($"SELECT * FROM {ParquetSources.ReadExpression(source, RepositoryPath)}")
            .ToDictionary(c => c.Name, c => c.SqlType, StringComparer.Ordinal);
    }

    // Only casts that are exact or fail loudly are made: integers (DuckDB refuses an out-of-range value) and
    // microsecond timestamps, naive or zoned. A pushed DOUBLE is never squeezed into a stored FLOAT or DECIMAL; the
    // folder's readers unify those column types by name instead.
    private static string Cast(OfflineColumn column, Dictionary<string, string>? existing)
    {
        var name = Sql.Identifier(column.Name);
        if (existing is null || !existing.TryGetValue(column.Name, out var type) || type == DuckDbTypeMap.SqlTypeOf(column.Type)) return name;
        var scalar = type.EndsWith("[]", StringComparison.Ordinal) ? type[..^2] : type;
        var exactOrLoud = scalar is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT"
            or "TIMESTAMP" or "TIMESTAMP WITH TIME ZONE";
        return exactOrLoud ? $"CAST({name} AS {type}) AS {name}" : name;
    }

    private static void AppendValue(IDuckDBAppenderRow row, object? value)
    {
        switch (value)
        {
            case int[] l: row.AppendValue((IEnumerable<int>)l); break;
            case long[] l: row.AppendValue((IEnumerable<long>)l); break;
            case float[] l: row.AppendValue((IEnumerable<float>)l); break;
            case double[] l: row.AppendValue((IEnumerable<double>)l); break;
            case bool[] l: row.AppendValue((IEnumerable<bool>)l); break;
            case string[] l: row.AppendValue((IEnumerable<string>)l); break;
            case DateTimeOffset[] l: row.AppendValue((IEnumerable<DateTimeOffset>)l); break;
            case byte[][] l: row.AppendValue((IEnumerable<byte[]>)l); break;
            default: DuckDbTypeMap.Append(row, value); break;
        }
    }
}
