using System.Text;
using Granary.DuckDb.Native;

namespace Granary.DuckDb;

/// <summary>A prepared statement: bind parameters (1-based), then execute or stream its result. Reusable after <see cref="ClearBindings"/>.</summary>
public sealed unsafe class DuckDbStatement : IDisposable
{
    private readonly DuckDbConnection _connection;
    private readonly string _sql;
    private nint _handle;

    internal DuckDbStatement(DuckDbConnection connection, nint handle, string sql)
    {
        _connection = connection;
        _handle = handle;
        _sql = sql;
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>How many parameters the statement takes.</summary>
    public int ParameterCount => (int)NativeMethods.ParameterCount(Handle);

    /// <summary>Binds parameter <paramref name="index"/> (1-based): null, bool, int, long, float, double, string, byte[], DateTime (UTC or unspecified = UTC) or DateTimeOffset.</summary>
    public void Bind(int index, object? value)
    {
        var i = (ulong)index;
        var state = value switch
        {
            null => NativeMethods.BindNull(Handle, i),
            bool b => NativeMethods.BindBoolean(Handle, i, b),
            int n => NativeMethods.BindInt32(Handle, i, n),
            long n => NativeMethods.BindInt64(Handle, i, n),
            float f => NativeMethods.BindFloat(Handle, i, f),
            double d => NativeMethods.BindDouble(Handle, i, d),
            string s => BindString(i, s),
            byte[] bytes => BindBlob(i, bytes),
            DateTimeOffset t => NativeMethods.BindTimestamp(Handle, i, DuckDbTime.ToMicros(t)),
            DateTime t => NativeMethods.BindTimestamp(Handle, i, DuckDbTime.ToMicros(t)),
            _ => throw new ArgumentException($"cannot bind a {value.GetType().Name} to DuckDB parameter {index}; use bool, int, long, float, double, string, byte[], DateTime or DateTimeOffset", nameof(value)),
        };
        if (state != DuckDbState.Success)
            throw new DuckDbException($"DuckDB could not bind parameter {index} ({value ?? "NULL"}) of: {_sql}", _sql);
    }

    private DuckDbState BindString(ulong index, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        fixed (byte* p = bytes) return NativeMethods.BindVarcharLength(Handle, index, p, (ulong)bytes.Length);
    }

    private DuckDbState BindBlob(ulong index, byte[] value)
    {
        fixed (byte* p = value) return NativeMethods.BindBlob(Handle, index, p, (ulong)value.Length);
    }

    /// <summary>Removes all bound values.</summary>
    public void ClearBindings() => NativeMethods.ClearBindings(Handle);

    /// <summary>Executes the statement, discarding any result; returns the rows changed.</summary>
    public long Execute()
    {
        DuckDbResultStruct result = default;
        try
        {
            if (NativeMethods.ExecutePrepared(Handle, &result) != DuckDbState.Success)
                throw new DuckDbException(NativeMethods.Utf8(NativeMethods.ResultError(&result)) ?? "DuckDB reported an unknown error.", _sql);
            return (long)NativeMethods.RowsChanged(&result);
        }
        finally
        {
            NativeMethods.DestroyResult(&result);
        }
    }

    /// <summary>Executes the statement and streams the result: rows are produced as chunks are fetched, never all held at once.</summary>
    public DuckDbResult Query()
    {
        if (NativeMethods.PendingPreparedStreaming(Handle, out var pending) != DuckDbState.Success)
        {
            var message = NativeMethods.Utf8(NativeMethods.PendingError(pending)) ?? "DuckDB could not start the query.";
            NativeMethods.DestroyPending(ref pending);
            throw new DuckDbException(message, _sql);
        }
        try
        {
            var result = new DuckDbResultStruct();
            if (NativeMethods.ExecutePending(pending, &result) != DuckDbState.Success)
            {
                var message = NativeMethods.Utf8(NativeMethods.ResultError(&result)) ?? "DuckDB reported an unknown error.";
                NativeMethods.DestroyResult(&result);
                throw new DuckDbException(message, _sql);
            }
            return new DuckDbResult(result, _sql);
        }
        finally
        {
            NativeMethods.DestroyPending(ref pending);
        }
    }

    /// <summary>
    /// Executes a statement with a small result (e.g. <c>COPY ... TO</c>, <c>CREATE TABLE AS</c>) on the calling thread,
    /// reporting DuckDB's progress (0-100) between tasks and interrupting the query when <paramref name="cancellationToken"/> fires.
    /// Returns the first value of the result when it is an integer (COPY's row count), else the rows changed.
    /// </summary>
    public long ExecuteWithProgress(Action<double>? progress, CancellationToken cancellationToken = default)
    {
        if (NativeMethods.PendingPrepared(Handle, out var pending) != DuckDbState.Success)
        {
            var message = NativeMethods.Utf8(NativeMethods.PendingError(pending)) ?? "DuckDB could not start the statement.";
            NativeMethods.DestroyPending(ref pending);
            throw new DuckDbException(message, _sql);
        }
        try
        {
            var lastReport = Environment.TickCount64;
            while (true)
            {
                if (cancellationToken.IsCancellationRequested) _connection.Interrupt();
                var state = NativeMethods.PendingExecuteTask(pending);
                if (state == DuckDbPendingState.Error)
                {
                    // The pending result holds DuckDB's own message; executing it would only wrap it.
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new DuckDbException(NativeMethods.Utf8(NativeMethods.PendingError(pending)) ?? "DuckDB reported an unknown error.", _sql);
                }
                if (state == DuckDbPendingState.ResultReady) break;
                if (state == DuckDbPendingState.NoTasksAvailable) Thread.Sleep(1);
                if (progress is not null && Environment.TickCount64 - lastReport >= 100)
                {
                    lastReport = Environment.TickCount64;
                    var percent = _connection.Progress;
                    if (percent >= 0) progress(percent);
                }
            }
            var result = new DuckDbResultStruct();
            try
            {
                if (NativeMethods.ExecutePending(pending, &result) != DuckDbState.Success)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new DuckDbException(NativeMethods.Utf8(NativeMethods.ResultError(&result)) ?? "DuckDB reported an unknown error.", _sql);
                }
                progress?.Invoke(100);
                using var reader = new DuckDbRowReader(new DuckDbResult(result, _sql, ownsResult: false));
                if (reader.FieldCount == 1 && reader.Read() && reader.GetValue(0) is long count) return count;
                return (long)NativeMethods.RowsChanged(&result);
            }
            finally
            {
                NativeMethods.DestroyResult(&result);
            }
        }
        finally
        {
            NativeMethods.DestroyPending(ref pending);
        }
    }

    /// <summary>Releases the prepared statement.</summary>
    public void Dispose()
    {
        if (_handle != 0) NativeMethods.DestroyPrepare(ref _handle);
    }
}
