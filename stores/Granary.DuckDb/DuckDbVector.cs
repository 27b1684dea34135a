using System.Runtime.InteropServices;
using System.Text;
using Granary.DuckDb.Native;

namespace Granary.DuckDb;

/// <summary>One column of a data chunk: raw values plus a validity mask. A view into DuckDB memory, valid while its chunk is.</summary>
public readonly unsafe struct DuckDbVector
{
    private readonly nint _vector;
    private readonly void* _data;
    private readonly ulong* _validity;

    internal DuckDbVector(nint vector, DuckDbColumn column)
    {
        _vector = vector;
        Column = column;
        _data = NativeMethods.VectorGetData(vector);
        _validity = NativeMethods.VectorGetValidity(vector);
    }

    /// <summary>The column this vector belongs to.</summary>
    public DuckDbColumn Column { get; }

    /// <summary>Whether row <paramref name="row"/> holds a value (a NULL mask pointer means every row is valid).</summary>
    public bool IsValid(int row) => _validity == null || (_validity[row >> 6] & (1UL << (row & 63))) != 0;

    /// <summary>The fixed-width values of the chunk, e.g. <c>long</c> for BIGINT and TIMESTAMP, <c>double</c> for DOUBLE.</summary>
    public ReadOnlySpan<T> GetValues<T>(int rowCount) where T : unmanaged => new(_data, rowCount);

    /// <summary>The VARCHAR value of a valid row.</summary>
    public string GetString(int row)
    {
        var bytes = GetBytes(row);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The raw bytes of a VARCHAR or BLOB row (DuckDB's 16-byte string layout: short strings inline, long ones by pointer).</summary>
    public ReadOnlySpan<byte> GetBytes(int row)
    {
        var entry = (byte*)_data + row * 16;
        var length = *(uint*)entry;
        return length <= 12 ? new ReadOnlySpan<byte>(entry + 4, (int)length) : new ReadOnlySpan<byte>(*(byte**)(entry + 8), (int)length);
    }

    /// <summary>The value of row <paramref name="row"/> as a CLR object (null when NULL); see <see cref="DuckDbRowReader.GetValue"/> for the mapping.</summary>
    public object? GetValue(int row) => IsValid(row) ? ReadValue(Column.Type, row) : null;

    private object ReadValue(DuckDbType type, int row) => type switch
    {
        DuckDbType.Boolean => ((byte*)_data)[row] != 0,
        DuckDbType.TinyInt => (int)((sbyte*)_data)[row],
        DuckDbType.SmallInt => (int)((short*)_data)[row],
        DuckDbType.Integer => ((int*)_data)[row],
        DuckDbType.BigInt => ((long*)_data)[row],
        DuckDbType.UTinyInt => (int)((byte*)_data)[row],
        DuckDbType.USmallInt => (int)((ushort*)_data)[row],
        DuckDbType.UInteger => (long)((uint*)_data)[row],
        DuckDbType.UBigInt => checked((long)((ulong*)_data)[row]),
        DuckDbType.Float => ((float*)_data)[row],
        DuckDbType.Double => ((double*)_data)[row],
        DuckDbType.Varchar => GetString(row),
        DuckDbType.Blob => GetBytes(row).ToArray(),
        // Naive timestamps are UTC by Granary's convention; zoned ones are stored as UTC instants.
        DuckDbType.Timestamp => DateTime.SpecifyKind(DuckDbTime.FromMicros(((long*)_data)[row]).UtcDateTime, DateTimeKind.Unspecified),
        DuckDbType.TimestampSeconds => DateTime.SpecifyKind(DuckDbTime.FromMicros(((long*)_data)[row] * 1_000_000).UtcDateTime, DateTimeKind.Unspecified),
        DuckDbType.TimestampMilliseconds => DateTime.SpecifyKind(DuckDbTime.FromMicros(((long*)_data)[row] * 1000).UtcDateTime, DateTimeKind.Unspecified),
        DuckDbType.TimestampNanoseconds => DateTime.SpecifyKind(DuckDbTime.FromMicros(((long*)_data)[row] / 1000).UtcDateTime, DateTimeKind.Unspecified),
        DuckDbType.TimestampTz => DuckDbTime.FromMicros(((long*)_data)[row]),
        DuckDbType.Date => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + ((int*)_data)[row]),
        DuckDbType.Decimal => ReadDecimal(row),
        DuckDbType.List => ReadList(row),
        _ => throw new NotSupportedException($"column '{Column.Name}' has DuckDB type {Column.Type}, which Granary does not read; CAST it to a supported type (BIGINT, DOUBLE, VARCHAR, BOOLEAN, BLOB, TIMESTAMP, lists of these)"),
    };

    private decimal ReadDecimal(int row)
    {
        decimal unscaled = Column.DecimalStorage switch
        {
            DuckDbType.SmallInt => ((short*)_data)[row],
            DuckDbType.Integer => ((int*)_data)[row],
            DuckDbType.BigInt => ((long*)_data)[row],
            _ => throw new NotSupportedException($"column '{Column.Name}' is a DECIMAL wider than 18 digits; CAST it to DOUBLE"),
        };
        return unscaled / (decimal)Math.Pow(10, Column.DecimalScale);
    }

    private object?[] ReadList(int row)
    {
        var entry = ((DuckDbListEntry*)_data)[row];
        var child = new DuckDbVector(NativeMethods.ListVectorGetChild(_vector), new DuckDbColumn(Column.Name, Column.ElementType));
        var values = new object?[(int)entry.Length];
        for (var i = 0; i < values.Length; i++) values[i] = child.GetValue((int)entry.Offset + i);
        return values;
    }
}
