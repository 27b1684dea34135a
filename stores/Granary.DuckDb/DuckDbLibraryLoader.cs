using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Granary.DuckDb;

/// <summary>
/// Finds <c>libduckdb.so</c> for the <c>duckdb</c> imports: the <see cref="EnvironmentVariable"/> (a file or a folder),
/// the application folder, then <c>node_modules/@duckdb/node-bindings-linux-x64/</c> searched upward from the working
/// directory and from the application folder (the repository's <c>npm install</c> puts it there).
/// </summary>
public static class DuckDbLibraryLoader
{
    /// <summary>Environment variable naming the library file or the folder that holds it.</summary>
    public const string EnvironmentVariable = "GRANARY_DUCKDB_LIBRARY";

    private const string FileName = "libduckdb.so";
    private const string NpmFolder = "node_modules/@duckdb/node-bindings-linux-x64";
    private static readonly Lock Gate = new();
    private static nint _handle;

    // A library has no entry point of its own, so a module initializer is the one place that runs before any import binds.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(DuckDbLibraryLoader).Assembly, Resolve);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        => name == Native.NativeMethods.Library ? Load() : 0;

    /// <summary>Loads the library once and returns its handle; throws <see cref="DllNotFoundException"/> listing the places tried and the install command.</summary>
    public static nint Load()
    {
        lock (Gate)
        {
            if (_handle != 0) return _handle;
            var tried = new List<string>();
            foreach (var candidate in Candidates())
            {
                tried.Add(candidate);
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                    return _handle = handle;
            }
            throw new DllNotFoundException(
                $"DuckDB's native library ({FileName}) was not found. Install it by running `npm install` in the Granary repository root " +
                $"(it fetches @duckdb/node-bindings-linux-x64), or set {EnvironmentVariable} to the library file or its folder. Tried: {string.Join(", ", tried)}");
        }
    }

    /// <summary>The paths tried, in order.</summary>
    public static IEnumerable<string> Candidates()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            yield return Directory.Exists(configured) ? Path.Combine(configured, FileName) : configured;
        var appFolder = AppContext.BaseDirectory;
        yield return Path.Combine(appFolder, FileName);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), appFolder })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                yield return Path.Combine(dir.FullName, NpmFolder, FileName);
        }
    }
}
