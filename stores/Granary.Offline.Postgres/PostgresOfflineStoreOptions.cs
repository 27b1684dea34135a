using Granary.Offline.Engine;

namespace Granary.Offline.Postgres;

/// <summary>Settings of the PostgreSQL offline store.</summary>
public sealed class PostgresOfflineStoreOptions
{
    /// <summary>Npgsql connection string of the database holding the sources.</summary>
    public required string ConnectionString { get; set; }

    /// <summary>Rows sent per batch from PostgreSQL into the local staging table; bounds .NET memory. Default 8192.</summary>
    public int FetchBatchRows { get; set; } = 8192;

    /// <summary>The embedded DuckDB used to read entity files and write the result (memory limit, temp directory).</summary>
    public DuckDbEngineOptions DuckDb { get; set; } = new();
}
