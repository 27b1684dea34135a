using System.Runtime.InteropServices;
using Granary.DuckDb.Native;

namespace Granary.DuckDb;

/// <summary>A result column: its name and DuckDB type (for lists, the element type too).</summary>
public sealed record DuckDbColumn(string Name, DuckDbType Type, DuckDbType ElementType = DuckDbType.Invalid, int DecimalScale = 0, DuckDbType DecimalStorage = DuckDbType.Invalid)
{
    /// <summary>The SQL spelling of the type, e.g. BIGINT, TIMESTAMP WITH TIME ZONE, DOUBLE[].</summary>
    public string SqlType => Type == DuckDbType.List ? SqlName(ElementType) + "[]" : SqlName(Type);

    private static string SqlName(DuckDbType type) => type switch
    {
        DuckDbType.Boolean => "BOOLEAN",
        DuckDbType.TinyInt => "TINYINT",
        DuckDbType.SmallInt => "SMALLINT",
        DuckDbType.Integer => "INTEGER",
        DuckDbType.BigInt => "BIGINT",
        DuckDbType.UTinyInt => "UTINYINT",
        DuckDbType.USmallInt => "USMALLINT",
        DuckDbType.UInteger => "UINTEGER",
        DuckDbType.UBigInt => "UBIGINT",
        DuckDbType.Float => "FLOAT",
        DuckDbType.Double => "DOUBLE",
        DuckDbType.Timestamp => "TIMESTAMP",
        DuckDbType.TimestampSeconds => "TIMESTAMP_S",
        DuckDbType.TimestampMilliseconds => "TIMESTAMP_MS",
        DuckDbType.TimestampNanoseconds => "TIMESTAMP_NS",
        DuckDbType.TimestampTz => "TIMESTAMP WITH TIME ZONE",
        DuckDbType.Date => "DATE",
        DuckDbType.Varchar => "VARCHAR",
        DuckDbType.Blob => "BLOB",
        DuckDbType.Decimal => "DECIMAL",
        _ => type.ToString().ToUpperInvariant(),
    };
}

/// <summary>A query result read chunk by chunk (about 2048 rows each); only the current chunk is held in memory.</summary>
public sealed unsafe class DuckDbResult : IDisposable
{
    private readonly DuckDbResultStruct* _result;
    private readonly bool _ownsResult;
    private DuckDbDataChunk? _current;
    private bool _disposed;

    internal DuckDbResult(DuckDbResultStruct result, string sql, bool ownsResult = true)
    {
        // The struct is copied to native memory so its address stays fixed for the C API.
        _result = (DuckDbResultStruct*)NativeMemory.Alloc((nuint)sizeof(DuckDbResultStruct));
        *_result = result;
        _ownsResult = ownsResult;
        Sql = sql;
        var count = (int)NativeMethods.ColumnCount(_result);
        var columns = new DuckDbColumn[count];
        for (var i = 0; i < count; i++) columns[i] = DescribeColumn(i);
        Columns = columns;
    }

    /// <summary>The SQL that produced this result.</summary>
    public string Sql { get; }

    /// <summary>The result's columns.</summary>
    public IReadOnlyList<DuckDbColumn> Columns { get; }

    private DuckDbColumn DescribeColumn(int index)
    {
        var name = NativeMethods.Utf8(NativeMethods.ColumnName(_result, (ulong)index)) ?? $"column{index}";
        var logical = NativeMethods.ColumnLogicalType(_result, (ulong)index);
        try
        {
            var type = NativeMethods.GetTypeId(logical);
            if (type == DuckDbType.List)
            {
                var child = NativeMethods.ListTypeChildType(logical);
                try { return new DuckDbColumn(name, type, NativeMethods.GetTypeId(child)); }
                finally { NativeMethods.DestroyLogicalType(ref child); }
            }
            if (type == DuckDbType.Decimal)
                return new DuckDbColumn(name, type, DecimalScale: NativeMethods.DecimalScale(logical), DecimalStorage: NativeMethods.DecimalInternalType(logical));
            return new DuckDbColumn(name, type);
        }
        finally
        {
            NativeMethods.DestroyLogicalType(ref logical);
        }
    }

    /// <summary>Fetches the next chunk (the previous one is released); null at the end. Throws DuckDB's error if the query fails midway.</summary>
    public DuckDbDataChunk? NextChunk()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current?.Dispose();
        _current = null;
        var chunk = NativeMethods.FetchChunk(*_result);
        if (chunk == 0)
        {
            var error = NativeMethods.Utf8(NativeMethods.ResultError(_result));
            if (!string.IsNullOrEmpty(error)) throw new DuckDbException(error, Sql);
            return null;
        }
        _current = new DuckDbDataChunk(chunk, Columns);
        return _current;
    }

    /// <summary>Releases the current chunk and the result.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _current?.Dispose();
        if (_ownsResult) NativeMethods.DestroyResult(_result);
        NativeMemory.Free(_result);
    }
}

/// <summary>One chunk of result rows: a vector per column. Valid until the next chunk is fetched.</summary>
public sealed class DuckDbDataChunk : IDisposable
{
    private nint _handle;
    private readonly IReadOnlyList<DuckDbColumn> _columns;

    internal DuckDbDataChunk(nint handle, IReadOnlyList<DuckDbColumn> columns)
    {
        _handle = handle;
        _columns = columns;
        RowCount = (int)NativeMethods.DataChunkGetSize(handle);
    }

    /// <summary>Rows in this chunk.</summary>
    public int RowCount { get; }

    /// <summary>The vector of column <paramref name="column"/>.</summary>
    public DuckDbVector GetVector(int column)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        return new DuckDbVector(NativeMethods.DataChunkGetVector(_handle, (ulong)column), _columns[column]);
    }

    /// <summary>Releases the chunk.</summary>
    public void Dispose()
    {
        if (_handle != 0) NativeMethods.DestroyDataChunk(ref _handle);
    }
}
