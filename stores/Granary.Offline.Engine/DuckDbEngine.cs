using DuckDB.NET.Data;

namespace Granary.Offline.Engine;

/// <summary>
/// One in-memory DuckDB database with Granary's settings (<see cref="DuckDbEngineOptions"/>: memory limit, spill folder,
/// threads). The offline stores run every operation on a connection from <see cref="Connect"/>.
/// </summary>
public sealed class DuckDbEngine : IDisposable
{
    private readonly Lock _connectLock = new();
    // Keeps the in-memory database alive; every operation works on a connection duplicated from it.
    private readonly DuckDBConnection _database;

    /// <summary>Opens the in-memory database with the given options.</summary>
    public DuckDbEngine(DuckDbEngineOptions options)
    {
        Options = options;
        var settings = options.ToDuckDbSettings();
        Directory.CreateDirectory(settings["temp_directory"]);
        var connectionString = new DuckDBConnectionStringBuilder { DataSource = DuckDBConnectionStringBuilder.InMemoryDataSource };
        foreach (var (name, value) in settings) connectionString[name] = value;
        _database = new DuckDBConnection(connectionString.ConnectionString);
        _database.Open();
    }

    /// <summary>The options the database was opened with.</summary>
    public DuckDbEngineOptions Options { get; }

    /// <summary>
    /// Opens a new connection to the database, set to UTC (naive timestamps are read as UTC, zoned ones converted)
    /// and with DuckDB's progress tracking on (read by <see cref="DuckDbConnectionExtensions.ExecuteWithProgress"/>, never printed).
    /// Dispose it after use.
    /// </summary>
    public DuckDBConnection Connect()
    {
        DuckDBConnection connection;
        lock (_connectLock)
        {
            connection = _database.Duplicate();
            connection.Open();
        }
        connection.Execute("SET TimeZone = 'UTC'; SET enable_progress_bar = true; SET enable_progress_bar_print = false;");
        return connection;
    }

    /// <summary>Closes the database.</summary>
    public void Dispose() => _database.Dispose();
}
