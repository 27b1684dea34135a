namespace Granary.DuckDb;

/// <summary>An error reported by DuckDB; <see cref="Exception.Message"/> is DuckDB's own text, unchanged.</summary>
public sealed class DuckDbException : Exception
{
    /// <summary>Creates the exception with DuckDB's message and, when known, the SQL that failed.</summary>
    public DuckDbException(string message, string? sql = null) : base(message) => Sql = sql;

    /// <summary>The SQL text that failed, when the error came from a statement.</summary>
    public string? Sql { get; }
}
