using Granary.Repository;
using Microsoft.Extensions.Options;

namespace Granary.Hosting;

/// <summary>
/// The feature store a silo serves: the repository and its stores. Filled from the repository's <c>granary.yaml</c>,
/// then overridden by the host's configuration section <c>Granary</c> (e.g. env <c>Granary__OnlineStore__ConnectionString</c>),
/// and checked at start-up by <see cref="GranaryOptionsValidator"/>.
/// </summary>
public sealed class GranaryOptions
{
    /// <summary>The configuration section that overrides granary.yaml.</summary>
    public const string SectionName = "Granary";

    /// <summary>The feature repository folder (absolute), holding granary.yaml and data paths resolved against it.</summary>
    public string RepositoryRoot { get; set; } = "";

    /// <summary>The project name (granary.yaml <c>project</c>).</summary>
    public string Project { get; set; } = "";

    /// <summary>The registry (granary.yaml <c>registry</c>); default a SQLite file <c>data/registry.db</c>.</summary>
    public StoreOptions<RegistryStoreKind> Registry { get; set; } = new() { Kind = RegistryStoreKind.Sqlite, Path = RegistryStoreConfig.DefaultPath };

    /// <summary>The online store (granary.yaml <c>online_store</c>); default a SQLite file <c>data/online.db</c>.</summary>
    public StoreOptions<OnlineStoreKind> OnlineStore { get; set; } = new() { Kind = OnlineStoreKind.Sqlite, Path = OnlineStoreConfig.DefaultPath };

    /// <summary>granary.yaml <c>online_store.key_ttl_seconds</c>: online rows expire this long after their last write; null never.</summary>
    public TimeSpan? OnlineKeyTtl { get; set; }

    /// <summary>The offline store (granary.yaml <c>offline_store</c>); default DuckDB over the repository's files.</summary>
    public StoreOptions<OfflineStoreKind> OfflineStore { get; set; } = new() { Kind = OfflineStoreKind.DuckDb };

    /// <summary>
    /// The audit log's store (section <c>Granary:Audit</c>). By default it follows the registry: a SQLite file
    /// <see cref="DefaultAuditPath"/> beside an embedded registry, the registry's PostgreSQL database in a cluster.
    /// </summary>
    public StoreOptions<RegistryStoreKind> Audit { get; set; } = new() { Kind = RegistryStoreKind.Sqlite, Path = DefaultAuditPath };

    /// <summary>The embedded audit log's file, relative to the repository root.</summary>
    public const string DefaultAuditPath = "data/audit.db";

    /// <summary>
    /// The folder every file path a request names (a historical job's output and entity files, a drift baseline) must
    /// resolve inside, after <c>..</c> and symbolic links; relative to the repository root. Default <c>data</c>.
    /// </summary>
    public string RequestFilesFolder { get; set; } = "data";

    /// <summary>Copies a parsed granary.yaml into these options.</summary>
    public void LoadFrom(RepositoryConfig config, string repositoryRoot)
    {
        RepositoryRoot = Path.GetFullPath(repositoryRoot);
        Project = config.Project;
        Registry = new() { Kind = config.Registry.Kind, Path = config.Registry.Path, ConnectionString = config.Registry.ConnectionString };
        OnlineStore = new() { Kind = config.OnlineStore.Kind, Path = config.OnlineStore.Path, ConnectionString = config.OnlineStore.ConnectionString };
        OnlineKeyTtl = config.OnlineStore.KeyTtl;
        OfflineStore = new() { Kind = config.OfflineStore.Kind, ConnectionString = config.OfflineStore.ConnectionString };
        Audit = config.Registry.Kind == RegistryStoreKind.Postgres
            ? new() { Kind = RegistryStoreKind.Postgres, ConnectionString = config.Registry.ConnectionString }
            : new() { Kind = RegistryStoreKind.Sqlite, Path = DefaultAuditPath };
    }

    /// <summary>A file path from these options, resolved against the repository root.</summary>
    public string Resolve(string path) => RepositoryConfig.ResolvePath(RepositoryRoot, path);
}

/// <summary>One store's settings: its kind, and a file path or a connection string.</summary>
/// <typeparam name="TKind">The store kinds of that role.</typeparam>
public sealed class StoreOptions<TKind> where TKind : struct, Enum
{
    /// <summary>Which engine.</summary>
    public TKind Kind { get; set; }
    /// <summary>The file, for embedded engines (relative to the repository root).</summary>
    public string? Path { get; set; }
    /// <summary>The connection string, for networked engines.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>Fails start-up with a message naming the setting and the fix, rather than the first store call failing later.</summary>
public sealed class GranaryOptionsValidator : IValidateOptions<GranaryOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, GranaryOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.RepositoryRoot) || !File.Exists(Path.Combine(options.RepositoryRoot, RepositoryConfig.FileName)))
            failures.Add($"Granary:RepositoryRoot '{options.RepositoryRoot}' holds no {RepositoryConfig.FileName}; pass the repository folder (--repo) or create one with 'granary init <dir>'");
        if (string.IsNullOrWhiteSpace(options.Project))
            failures.Add($"Granary:Project is empty; set 'project: <name>' in {RepositoryConfig.FileName}");
        Check(options.Registry, "registry", RegistryStoreKind.Postgres, "Registry", failures);
        Check(options.OnlineStore, "online_store", OnlineStoreKind.Redis, "OnlineStore", failures);
        Check(options.OfflineStore, "offline_store", OfflineStoreKind.Postgres, "OfflineStore", failures);
        if (options.Registry.Kind == RegistryStoreKind.Sqlite && string.IsNullOrWhiteSpace(options.Registry.Path))
            failures.Add($"{RepositoryConfig.FileName}: registry.path is empty; give the SQLite file (default {RegistryStoreConfig.DefaultPath})");
        Check(options.Audit, "audit", RegistryStoreKind.Postgres, "Audit", failures);
        if (options.Audit.Kind == RegistryStoreKind.Sqlite && string.IsNullOrWhiteSpace(options.Audit.Path))
            failures.Add($"Granary:Audit:Path is empty; give the SQLite file of the audit log (default {GranaryOptions.DefaultAuditPath})");
        if (string.IsNullOrWhiteSpace(options.RequestFilesFolder))
            failures.Add("Granary:RequestFilesFolder is empty; give the folder request paths must stay inside (default data, under the repository)");
        if (options.OnlineStore.Kind == OnlineStoreKind.Sqlite && string.IsNullOrWhiteSpace(options.OnlineStore.Path))
            failures.Add($"{RepositoryConfig.FileName}: online_store.path is empty; give the SQLite file (default {OnlineStoreConfig.DefaultPath})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check<TKind>(StoreOptions<TKind> store, string yamlKey, TKind networked, string section, List<string> failures)
        where TKind : struct, Enum
    {
        if (store.Kind.Equals(networked) && string.IsNullOrWhiteSpace(store.ConnectionString))
            failures.Add($"{RepositoryConfig.FileName}: {yamlKey}.connection_string is required when {yamlKey}.type is {networked.ToString().ToLowerInvariant()}; " +
                         $"set it there or in env Granary__{section}__ConnectionString");
    }
}
