namespace Granary.DuckDb;

/// <summary>
/// Reads a streamed result one row at a time. Values map to: BOOLEAN bool; TINYINT..INTEGER int; BIGINT, UINTEGER long;
/// FLOAT float; DOUBLE double; VARCHAR string; BLOB byte[]; TIMESTAMP DateTime (unspecified kind, UTC by convention);
/// TIMESTAMPTZ DateTimeOffset (UTC); DATE DateOnly; DECIMAL decimal; LIST object?[]; NULL null.
/// </summary>
public sealed class DuckDbRowReader : IDisposable
{
    private readonly DuckDbResult _result;
    private DuckDbDataChunk? _chunk;
    private DuckDbVector[] _vectors = [];
    private int _row = -1;

    /// <summary>Wraps a result; the reader owns and disposes it.</summary>
    public DuckDbRowReader(DuckDbResult result) => _result = result;

    /// <summary>The result's columns.</summary>
    public IReadOnlyList<DuckDbColumn> Columns => _result.Columns;

    /// <summary>Number of columns.</summary>
    public int FieldCount => _result.Columns.Count;

    /// <summary>The name of column <paramref name="ordinal"/>.</summary>
    public string GetName(int ordinal) => _result.Columns[ordinal].Name;

    /// <summary>Advances to the next row; false at the end.</summary>
    public bool Read()
    {
        _row++;
        while (_chunk is null || _row >= _chunk.RowCount)
        {
            _chunk = _result.NextChunk();
            if (_chunk is null) return false;
            _row = 0;
            if (_vectors.Length != FieldCount) _vectors = new DuckDbVector[FieldCount];
            for (var i = 0; i < FieldCount; i++) _vectors[i] = _chunk.GetVector(i);
        }
        return true;
    }

    /// <summary>Whether the current row's column is NULL.</summary>
    public bool IsNull(int ordinal) => !_vectors[ordinal].IsValid(_row);

    /// <summary>The current row's value of a column (null when NULL).</summary>
    public object? GetValue(int ordinal) => _vectors[ordinal].GetValue(_row);

    /// <summary>The current row's values.</summary>
    public object?[] GetValues()
    {
        var values = new object?[FieldCount];
        for (var i = 0; i < values.Length; i++) values[i] = GetValue(i);
        return values;
    }

    /// <summary>Releases the result.</summary>
    public void Dispose() => _result.Dispose();
}
