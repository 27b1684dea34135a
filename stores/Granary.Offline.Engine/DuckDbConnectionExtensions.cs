using DuckDB.NET.Data;

namespace Granary.Offline.Engine;

/// <summary>
/// Short forms for running SQL on a DuckDB.NET connection, and the one place that runs a long statement with a progress
/// callback and cancellation (DuckDB's query progress polled while the statement runs; a cancelled token interrupts it).
/// </summary>
public static class DuckDbConnectionExtensions
{
    /// <summary>How often a long statement's progress is read and a pending cancellation re-checked.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs one or more statements separated by semicolons; returns the rows changed (COPY: the rows written).</summary>
    public static long Execute(this DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row (null when there is no row or the value is NULL), mapped like <see cref="DuckDbRowReader.GetValue"/>.</summary>
    public static object? QueryScalar(this DuckDBConnection connection, string sql, params object?[] parameters)
    {
        using var rows = connection.QueryRows(sql, parameters);
        return rows.Read() ? rows.GetValue(0) : null;
    }

    /// <summary>
    /// Runs a query whose rows are fetched chunk by chunk as the reader advances (DuckDB's streaming mode), so a large
    /// result is never held in full. Parameters bind to <c>$1</c>, <c>$2</c>, ... Disposing the reader ends the query.
    /// While the reader is open, the connection must run nothing else (an appender flush included): write through a second connection.
    /// </summary>
    public static DuckDbRowReader QueryRows(this DuckDBConnection connection, string sql, params object?[] parameters)
    {
        var command = Command(connection, sql, parameters, streaming: true);
        try
        {
            return new DuckDbRowReader(command, command.ExecuteReader());
        }
        catch
        {
            command.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs a statement with a small result (<c>COPY ... TO</c>, <c>CREATE TABLE AS</c>) on the calling thread, reporting
    /// DuckDB's progress estimate (0-100) about every 100 ms on a timer thread, and interrupting the statement when
    /// <paramref name="cancellationToken"/> fires (then <see cref="OperationCanceledException"/> is thrown).
    /// Returns the rows changed; for COPY, the rows written. Needs <c>enable_progress_bar</c> (set by <see cref="DuckDbEngine.Connect"/>) for progress.
    /// </summary>
    public static long ExecuteWithProgress(this DuckDBConnection connection, string sql, Action<double>? progress, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var running = 1;
        void Poll()
        {
            if (Volatile.Read(ref running) == 0) return;
            // An interrupt that arrives before DuckDB starts the statement could be lost, so it is repeated while the statement runs.
            if (cancellationToken.IsCancellationRequested) connection.NativeConnection.Interrupt();
            else if (progress is not null && connection.GetQueryProgress().Percentage is var percent and >= 0) progress(percent);
        }
        using var registration = cancellationToken.Register(() => { if (Volatile.Read(ref running) == 1) connection.NativeConnection.Interrupt(); });
        var timer = new Timer(_ => Poll(), null, PollInterval, PollInterval);
        long changed;
        try
        {
            changed = command.ExecuteNonQuery();
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is DuckDBException or OperationCanceledException)
        {
            throw new OperationCanceledException("the DuckDB statement was interrupted", e, cancellationToken);
        }
        finally
        {
            Volatile.Write(ref running, 0);
            // Wait for a tick in flight, so no progress is reported after this method returns.
            using var done = new ManualResetEvent(false);
            if (timer.Dispose(done)) done.WaitOne();
        }
        cancellationToken.ThrowIfCancellationRequested();
        progress?.Invoke(100);
        return changed;
    }

    /// <summary>The columns (name and DuckDB SQL type, e.g. <c>TIMESTAMP WITH TIME ZONE</c>) a query would return, without running it.</summary>
    public static IReadOnlyList<DuckDbColumn> Describe(this DuckDBConnection connection, string query)
    {
        using var reader = connection.QueryRows($"DESCRIBE SELECT * FROM ({query})");
        var columns = new List<DuckDbColumn>();
        while (reader.Read()) columns.Add(new DuckDbColumn((string)reader.GetValue(0)!, (string)reader.GetValue(1)!));
        return columns;
    }

    private static DuckDBCommand Command(DuckDBConnection connection, string sql, object?[] parameters, bool streaming)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.UseStreamingMode = streaming;
        foreach (var parameter in parameters) command.Parameters.Add(parameter is null ? new DuckDBParameter { Value = DBNull.Value } : new DuckDBParameter(parameter));
        return command;
    }
}
