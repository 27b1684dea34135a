namespace Granary.Offline.Engine;

/// <summary>Settings of the embedded DuckDB engine (<see cref="DuckDbEngine"/>) that the offline stores run on.</summary>
public sealed class DuckDbEngineOptions
{
    /// <summary>Folder that relative file-source paths are resolved against (the feature repository). Default: the working directory.</summary>
    public string? RepositoryPath { get; set; }

    /// <summary>DuckDB's memory limit, e.g. "2GB". Above it, joins and sorts spill to <see cref="TempDirectory"/>. Default: "2GB".</summary>
    public string MemoryLimit { get; set; } = "2GB";

    /// <summary>Where DuckDB spills when over <see cref="MemoryLimit"/>. Default: a "granary-duckdb" folder under the system temp folder.</summary>
    public string? TempDirectory { get; set; }

    /// <summary>DuckDB worker threads; 0 means DuckDB's default (one per core).</summary>
    public int Threads { get; set; }

    /// <summary>The settings passed to DuckDB at open.</summary>
    public IReadOnlyDictionary<string, string> ToDuckDbSettings()
    {
        var settings = new Dictionary<string, string>
        {
            ["memory_limit"] = MemoryLimit,
            ["temp_directory"] = TempDirectory ?? Path.Combine(Path.GetTempPath(), "granary-duckdb"),
            // Results must come out in entity-row order.
            ["preserve_insertion_order"] = "true",
            // Sources are rewritten in place (pushes, pipelines). DuckDB's cache of file contents trusts a file whose
            // modification time looks unchanged, which two rewrites within the clock's resolution defeat: a read of the
            // old bytes would drop rows. Reads go to the OS page cache instead.
            ["enable_external_file_cache"] = "false",
        };
        if (Threads > 0) settings["threads"] = Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }
}
