namespace Granary.Offline;

/// <summary>
/// Reads a historical retrieval's Parquet result file back, in order and in chunks, on the machine that wrote it, so a
/// caller that cannot see that disk (a gateway in a cluster) receives the rows through the job's grain instead.
/// </summary>
public interface IRetrievalResultReader
{
    /// <summary>The rows of <paramref name="path"/>, <paramref name="chunkRows"/> at a time, column-major, as the engine types them (null for NULL).</summary>
    IAsyncEnumerable<RetrievalResultChunk> ReadAsync(string path, int chunkRows, CancellationToken cancellationToken = default);
}

/// <summary>Consecutive rows of a result file, column by column.</summary>
/// <param name="ColumnNames">The file's column names, in file order.</param>
/// <param name="FirstRow">The 0-based index of the chunk's first row in the file.</param>
/// <param name="Columns">One array per column, one value per row.</param>
public sealed record RetrievalResultChunk(IReadOnlyList<string> ColumnNames, long FirstRow, object?[][] Columns)
{
    /// <summary>Rows in the chunk.</summary>
    public int RowCount => Columns.Length == 0 ? 0 : Columns[0].Length;
}
