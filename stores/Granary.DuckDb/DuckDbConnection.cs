using Granary.DuckDb.Native;

namespace Granary.DuckDb;

/// <summary>One connection to a DuckDB database. Not thread-safe: one statement at a time (except <see cref="Interrupt"/>).</summary>
public sealed unsafe class DuckDbConnection : IDisposable
{
    private nint _handle;

    internal DuckDbConnection(nint handle) => _handle = handle;

    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Runs one or more statements separated by semicolons, discarding results; returns the rows changed by the last one.</summary>
    public long Execute(string sql)
    {
        DuckDbResultStruct result = default;
        try
        {
            if (NativeMethods.Query(Handle, sql, &result) != DuckDbState.Success)
                throw new DuckDbException(NativeMethods.Utf8(NativeMethods.ResultError(&result)) ?? "DuckDB reported an unknown error.", sql);
            return (long)NativeMethods.RowsChanged(&result);
        }
        finally
        {
            // A failed query still owns a result that must be destroyed.
            NativeMethods.DestroyResult(&result);
        }
    }

    /// <summary>Prepares one statement with <c>$1</c>/<c>?</c> parameters.</summary>
    public DuckDbStatement Prepare(string sql)
    {
        if (NativeMethods.Prepare(Handle, sql, out var statement) != DuckDbState.Success)
        {
            var message = NativeMethods.Utf8(NativeMethods.PrepareError(statement)) ?? "DuckDB could not prepare the statement.";
            NativeMethods.DestroyPrepare(ref statement);
            throw new DuckDbException(message, sql);
        }
        return new DuckDbStatement(this, statement, sql);
    }

    /// <summary>Runs a query and streams its result chunk by chunk; parameters bind to <c>$1</c>, <c>$2</c>, ...</summary>
    public DuckDbResult Query(string sql, params object?[] parameters)
    {
        using var statement = Prepare(sql);
        for (var i = 0; i < parameters.Length; i++) statement.Bind(i + 1, parameters[i]);
        return statement.Query();
    }

    /// <summary>Runs a query and reads it row by row.</summary>
    public DuckDbRowReader QueryRows(string sql, params object?[] parameters) => new(Query(sql, parameters));

    /// <summary>Runs a query and returns the first column of the first row (null when no row or NULL).</summary>
    public object? QueryScalar(string sql, params object?[] parameters)
    {
        using var rows = QueryRows(sql, parameters);
        return rows.Read() ? rows.GetValue(0) : null;
    }

    /// <summary>Creates an appender that bulk-inserts rows into <paramref name="table"/> (optionally in <paramref name="schema"/>).</summary>
    public DuckDbAppender CreateAppender(string table, string? schema = null)
    {
        if (NativeMethods.AppenderCreate(Handle, schema, table, out var appender) != DuckDbState.Success)
        {
            var message = NativeMethods.Utf8(NativeMethods.AppenderError(appender)) ?? $"DuckDB could not create an appender for table '{table}'.";
            NativeMethods.AppenderDestroy(ref appender);
            throw new DuckDbException(message);
        }
        return new DuckDbAppender(appender, table);
    }

    /// <summary>Asks the running query to stop; it then fails with DuckDB's "Interrupted" error. Safe from another thread.</summary>
    public void Interrupt() => NativeMethods.Interrupt(Handle);

    /// <summary>Progress of the query being executed on this connection in percent (0-100), or -1 when unknown; read it between pending tasks (see <see cref="DuckDbStatement.ExecuteWithProgress"/>).</summary>
    public double Progress => NativeMethods.QueryProgress(Handle).Percentage;

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        if (_handle != 0) NativeMethods.Disconnect(ref _handle);
    }
}
