using System.Collections;
using System.Numerics;
using DuckDB.NET.Data;

namespace Granary.Offline.Engine;

/// <summary>
/// Reads a streamed DuckDB result row by row, with values mapped to the CLR types Granary uses everywhere: BOOLEAN bool;
/// TINYINT..INTEGER, UTINYINT, USMALLINT int; BIGINT, UINTEGER, UBIGINT long; FLOAT float; DOUBLE double; VARCHAR string;
/// BLOB byte[]; TIMESTAMP (any precision) DateTime of unspecified kind (UTC by convention); TIMESTAMPTZ DateTimeOffset (UTC);
/// DATE DateOnly; DECIMAL decimal; LIST object?[]; NULL null. Owns the command and the reader.
/// </summary>
public sealed class DuckDbRowReader : IDisposable
{
    private readonly DuckDBCommand _command;
    private readonly DuckDBDataReader _reader;
    private readonly bool[] _zoned;

    internal DuckDbRowReader(DuckDBCommand command, DuckDBDataReader reader)
    {
        _command = command;
        _reader = reader;
        _zoned = new bool[reader.FieldCount];
        for (var i = 0; i < _zoned.Length; i++) _zoned[i] = reader.GetDataTypeName(i) == "TimestampTz";
    }

    /// <summary>Number of columns.</summary>
    public int FieldCount => _reader.FieldCount;

    /// <summary>The name of column <paramref name="ordinal"/>.</summary>
    public string GetName(int ordinal) => _reader.GetName(ordinal);

    /// <summary>Advances to the next row (fetching the next chunk when needed); false at the end.</summary>
    public bool Read() => _reader.Read();

    /// <summary>Whether the current row's column is NULL.</summary>
    public bool IsNull(int ordinal) => _reader.IsDBNull(ordinal);

    /// <summary>The current row's value of a column (null when NULL), mapped as the class summary says.</summary>
    public object? GetValue(int ordinal) => _reader.IsDBNull(ordinal) ? null : Map(_reader.GetValue(ordinal), _zoned[ordinal], ordinal);

    /// <summary>The current row's values.</summary>
    public object?[] GetValues()
    {
        var values = new object?[FieldCount];
        for (var i = 0; i < values.Length; i++) values[i] = GetValue(i);
        return values;
    }

    private object? Map(object value, bool zoned, int ordinal) => value switch
    {
        // DuckDB.NET reads TIMESTAMPTZ as a DateTime holding the UTC instant.
        DateTime t when zoned => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
        DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Unspecified),
        sbyte n => (int)n,
        short n => (int)n,
        byte n => (int)n,
        ushort n => (int)n,
        uint n => (long)n,
        ulong n => checked((long)n),
        Stream stream => ReadAll(stream),
        BigInteger => throw new NotSupportedException($"column '{GetName(ordinal)}' is a HUGEINT, which Granary does not read; CAST it to BIGINT or DOUBLE"),
        string => value,
        IList list => MapList(list, ordinal),
        _ => value,
    };

    private object?[] MapList(IList list, int ordinal)
    {
        var values = new object?[list.Count];
        for (var i = 0; i < values.Length; i++) values[i] = list[i] is { } item ? Map(item, zoned: false, ordinal) : null;
        return values;
    }

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }

    /// <summary>Ends the query and releases the statement.</summary>
    public void Dispose()
    {
        _reader.Dispose();
        _command.Dispose();
    }
}
