using System.Runtime.CompilerServices;
using DuckDB.NET.Data;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>Reads historical results (Parquet) with an in-memory DuckDB connection; timestamps come back as UTC.</summary>
public sealed class DuckDbRetrievalResultReader : IRetrievalResultReader
{
    /// <inheritdoc/>
    public async IAsyncEnumerable<RetrievalResultChunk> ReadAsync(string path, int chunkRows, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkRows);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        await connection.OpenAsync(cancellationToken);
        connection.Execute("SET TimeZone = 'UTC'");
        using var rows = connection.QueryRows($"SELECT * FROM read_parquet({Sql.Literal(path)})");
        var names = new string[rows.FieldCount];
        for (var c = 0; c < names.Length; c++) names[c] = rows.GetName(c);
        long first = 0;
        var buffer = NewBuffer(names.Length, chunkRows);
        var count = 0;
        while (rows.Read())
        {
            for (var c = 0; c < names.Length; c++) buffer[c][count] = rows.GetValue(c);
            if (++count == chunkRows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return new RetrievalResultChunk(names, first, buffer);
                first += count;
                count = 0;
                buffer = NewBuffer(names.Length, chunkRows);
            }
        }
        if (count > 0) yield return new RetrievalResultChunk(names, first, Array.ConvertAll(buffer, column => column[..count]));
    }

    private static object?[][] NewBuffer(int columns, int rows)
    {
        var buffer = new object?[columns][];
        for (var c = 0; c < columns; c++) buffer[c] = new object?[rows];
        return buffer;
    }
}
