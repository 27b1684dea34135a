using Granary.DuckDb.Native;

namespace Granary.DuckDb;

/// <summary>An open DuckDB database (in memory or a file). Thread-safe; hand out one <see cref="DuckDbConnection"/> per concurrent user.</summary>
public sealed class DuckDbDatabase : IDisposable
{
    private nint _handle;

    private DuckDbDatabase(nint handle) => _handle = handle;

    /// <summary>Opens a database: <paramref name="path"/> null or ":memory:" for in memory, else a file (created when missing).</summary>
    /// <param name="path">The database file, or null for an in-memory database.</param>
    /// <param name="settings">Start-up options such as <c>memory_limit</c>, <c>temp_directory</c>, <c>threads</c>, <c>TimeZone</c>.</param>
    public static DuckDbDatabase Open(string? path = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        DuckDbLibraryLoader.Load();
        if (NativeMethods.CreateConfig(out var config) != DuckDbState.Success)
            throw new DuckDbException("DuckDB could not allocate a configuration object.");
        try
        {
            foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            {
                if (NativeMethods.SetConfig(config, name, value) != DuckDbState.Success)
                    throw new DuckDbException($"DuckDB rejected the setting {name}='{value}'.");
            }
            if (NativeMethods.OpenExt(path, out var handle, config, out var error) != DuckDbState.Success)
            {
                var message = NativeMethods.Utf8(error) ?? $"DuckDB could not open '{path ?? ":memory:"}'.";
                if (error != 0) NativeMethods.Free(error);
                throw new DuckDbException(message);
            }
            return new DuckDbDatabase(handle);
        }
        finally
        {
            NativeMethods.DestroyConfig(ref config);
        }
    }

    /// <summary>The DuckDB library version, e.g. "v1.5.6".</summary>
    public static string LibraryVersion
    {
        get
        {
            DuckDbLibraryLoader.Load();
            return NativeMethods.Utf8(NativeMethods.LibraryVersion()) ?? "unknown";
        }
    }

    /// <summary>Opens a new connection to this database.</summary>
    public DuckDbConnection Connect()
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        if (NativeMethods.Connect(_handle, out var connection) != DuckDbState.Success)
            throw new DuckDbException("DuckDB could not open a connection to the database.");
        return new DuckDbConnection(connection);
    }

    /// <summary>Closes the database; connections must be disposed first.</summary>
    public void Dispose()
    {
        if (_handle != 0) NativeMethods.Close(ref _handle);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the native database if the owner forgot to.</summary>
    ~DuckDbDatabase()
    {
        if (_handle != 0) NativeMethods.Close(ref _handle);
    }
}
