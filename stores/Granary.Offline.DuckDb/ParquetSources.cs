using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>Turns file sources into DuckDB table functions: a file is read directly, a folder as every Parquet file below it.</summary>
internal static class ParquetSources
{
    /// <summary>The <c>read_parquet(...)</c> expression for a file source; throws when the path does not exist.</summary>
    public static string ReadExpression(DataSource source, string? repositoryPath)
    {
        if (source is not FileSource file)
            throw new HistoricalRetrievalException($"source '{source.Name}' is a {OfflineSources.KindOf(source)} source; the DuckDB offline store reads file (Parquet) sources only");
        var path = Path.GetFullPath(file.Path, repositoryPath ?? Directory.GetCurrentDirectory());
        if (Directory.Exists(path))
            return $"read_parquet({Sql.Literal(Path.Combine(path, "**", "*.parquet"))}, union_by_name = true)";
        if (File.Exists(path))
            return $"read_parquet({Sql.Literal(path)})";
        throw new HistoricalRetrievalException($"file source '{source.Name}' points at '{path}', which is neither a Parquet file nor a folder");
    }

    /// <summary>
    /// The full paths of <paramref name="sources"/> that exist today, files and folders: the gates
    /// (<see cref="SingleFileGates"/>) a reader enters, since an append replaces a single file and an erasure replaces files
    /// of either.
    /// </summary>
    public static IEnumerable<string> GatedPaths(IEnumerable<DataSource> sources, string? repositoryPath)
        => sources.OfType<FileSource>()
            .Select(f => Path.GetFullPath(f.Path, repositoryPath ?? Directory.GetCurrentDirectory()))
            .Where(p => File.Exists(p) || Directory.Exists(p));

    /// <summary>
    /// What identifies the current content of a file source's files: each Parquet file's path, length and last write time
    /// (a folder's files in order), or null when it cannot be read. Used to reuse facts about the data across retrievals.
    /// </summary>
    public static string? Fingerprint(DataSource source, string? repositoryPath)
    {
        if (source is not FileSource file) return null;
        try
        {
            var path = Path.GetFullPath(file.Path, repositoryPath ?? Directory.GetCurrentDirectory());
            var files = Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
                : [path];
            return string.Join("\n", files.Select(f => new FileInfo(f)).Select(f => $"{f.FullName}|{f.Length}|{f.LastWriteTimeUtc.Ticks}"));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
