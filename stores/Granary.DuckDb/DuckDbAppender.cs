using System.Text;
using Granary.DuckDb.Native;

namespace Granary.DuckDb;

/// <summary>Bulk-inserts rows into a table: append one value per column, then <see cref="EndRow"/>. Much faster than INSERT.</summary>
public sealed unsafe class DuckDbAppender : IDisposable
{
    private readonly string _table;
    private nint _handle;

    internal DuckDbAppender(nint handle, string table)
    {
        _handle = handle;
        _table = table;
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    private void Check(DuckDbState state)
    {
        if (state != DuckDbState.Success)
            throw new DuckDbException(NativeMethods.Utf8(NativeMethods.AppenderError(_handle)) ?? $"DuckDB's appender for table '{_table}' failed.");
    }

    /// <summary>Appends NULL.</summary>
    public void AppendNull() => Check(NativeMethods.AppendNull(Handle));
    /// <summary>Appends a boolean.</summary>
    public void Append(bool value) => Check(NativeMethods.AppendBool(Handle, value));
    /// <summary>Appends a 32-bit integer.</summary>
    public void Append(int value) => Check(NativeMethods.AppendInt32(Handle, value));
    /// <summary>Appends a 64-bit integer.</summary>
    public void Append(long value) => Check(NativeMethods.AppendInt64(Handle, value));
    /// <summary>Appends a float.</summary>
    public void Append(float value) => Check(NativeMethods.AppendFloat(Handle, value));
    /// <summary>Appends a double.</summary>
    public void Append(double value) => Check(NativeMethods.AppendDouble(Handle, value));

    /// <summary>Appends text (UTF-8).</summary>
    public void Append(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 512)
        {
            Span<byte> buffer = stackalloc byte[max];
            var length = Encoding.UTF8.GetBytes(value, buffer);
            fixed (byte* p = buffer) Check(NativeMethods.AppendVarcharLength(Handle, p, (ulong)length));
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        fixed (byte* p = bytes) Check(NativeMethods.AppendVarcharLength(Handle, p, (ulong)bytes.Length));
    }

    /// <summary>Appends a BLOB.</summary>
    public void Append(ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value) Check(NativeMethods.AppendBlob(Handle, p, (ulong)value.Length));
    }

    /// <summary>Appends a TIMESTAMP or TIMESTAMPTZ given as microseconds since the epoch (UTC).</summary>
    public void AppendTimestampMicros(long micros) => Check(NativeMethods.AppendTimestamp(Handle, micros));
    /// <summary>Appends an instant (stored as UTC).</summary>
    public void Append(DateTimeOffset value) => AppendTimestampMicros(DuckDbTime.ToMicros(value));
    /// <summary>Appends a time; unspecified kind is taken as UTC.</summary>
    public void Append(DateTime value) => AppendTimestampMicros(DuckDbTime.ToMicros(value));

    /// <summary>Appends a CLR value of any type <see cref="DuckDbStatement.Bind"/> accepts.</summary>
    public void AppendValue(object? value)
    {
        switch (value)
        {
            case null: AppendNull(); break;
            case bool b: Append(b); break;
            case int i: Append(i); break;
            case long l: Append(l); break;
            case float f: Append(f); break;
            case double d: Append(d); break;
            case string s: Append(s); break;
            case byte[] bytes: Append(bytes.AsSpan()); break;
            case DateTimeOffset t: Append(t); break;
            case DateTime t: Append(t); break;
            default: throw new ArgumentException($"cannot append a {value.GetType().Name} to table '{_table}'; use bool, int, long, float, double, string, byte[], DateTime or DateTimeOffset", nameof(value));
        }
    }

    /// <summary>Finishes the current row.</summary>
    public void EndRow() => Check(NativeMethods.AppenderEndRow(Handle));

    /// <summary>Writes buffered rows to the table.</summary>
    public void Flush() => Check(NativeMethods.AppenderFlush(Handle));

    /// <summary>Flushes and releases the appender; errors from the final flush are thrown.</summary>
    public void Dispose()
    {
        if (_handle == 0) return;
        try
        {
            Check(NativeMethods.AppenderClose(_handle));
        }
        finally
        {
            NativeMethods.AppenderDestroy(ref _handle);
        }
    }
}
