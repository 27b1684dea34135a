using Granary.Definitions;

namespace Granary.Repository;

/// <summary>A column of a source's real data, as the offline engine sees it: name, engine type, and the feature type it holds (null when none fits).</summary>
public sealed record SourceColumn(string Name, string Type, Definitions.ValueType? ValueType = null);

/// <summary>Reads the columns a data source really has (the Parquet file/folder, the PostgreSQL table or query), for validation.</summary>
public interface ISourceSchemaReader
{
    /// <summary>The columns of <paramref name="source"/>; throws with a clear message when the data cannot be read (missing file, unknown table).</summary>
    /// <param name="source">A file or PostgreSQL source.</param>
    /// <param name="repositoryRoot">The folder relative file paths are resolved against.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<SourceColumn>> ReadColumnsAsync(DataSource source, string repositoryRoot, CancellationToken cancellationToken);
}
