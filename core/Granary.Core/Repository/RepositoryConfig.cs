using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Granary.Repository;

/// <summary>Where the registry keeps its versions.</summary>
public enum RegistryStoreKind
{
    /// <summary>A SQLite file (the embedded default).</summary>
    Sqlite,
    /// <summary>A PostgreSQL database shared by a cluster.</summary>
    Postgres,
}

/// <summary>Where online feature values are persisted.</summary>
public enum OnlineStoreKind
{
    /// <summary>A SQLite file (the embedded default).</summary>
    Sqlite,
    /// <summary>Redis.</summary>
    Redis,
}

/// <summary>Which engine reads historical data.</summary>
public enum OfflineStoreKind
{
    /// <summary>DuckDB over Parquet files (the embedded default).</summary>
    DuckDb,
    /// <summary>PostgreSQL tables and queries.</summary>
    Postgres,
}

/// <summary>The <c>registry:</c> section of granary.yaml.</summary>
public sealed record RegistryStoreConfig
{
    /// <summary>Default SQLite path, relative to the repository.</summary>
    public const string DefaultPath = "data/registry.db";
    /// <summary>The store kind; default SQLite.</summary>
    public RegistryStoreKind Kind { get; init; } = RegistryStoreKind.Sqlite;
    /// <summary>The SQLite file (absolute, or relative to the repository); default <see cref="DefaultPath"/>.</summary>
    public string Path { get; init; } = DefaultPath;
    /// <summary>The Npgsql connection string when <see cref="Kind"/> is PostgreSQL.</summary>
    public string? ConnectionString { get; init; }
}

/// <summary>The <c>online_store:</c> section of granary.yaml.</summary>
public sealed record OnlineStoreConfig
{
    /// <summary>Default SQLite path, relative to the repository.</summary>
    public const string DefaultPath = "data/online.db";
    /// <summary>The store kind; default SQLite.</summary>
    public OnlineStoreKind Kind { get; init; } = OnlineStoreKind.Sqlite;
    /// <summary>The SQLite file (absolute, or relative to the repository); default <see cref="DefaultPath"/>.</summary>
    public string Path { get; init; } = DefaultPath;
    /// <summary>The Redis configuration string (e.g. <c>127.0.0.1:6379</c>) when <see cref="Kind"/> is Redis.</summary>
    public string? ConnectionString { get; init; }
    /// <summary>
    /// <c>key_ttl_seconds</c> (as Feast's): an entity's online rows expire this long after their last write; null keeps
    /// them until overwritten. Expired rows read as NOT_FOUND.
    /// </summary>
    public TimeSpan? KeyTtl { get; init; }
}

/// <summary>The <c>offline_store:</c> section of granary.yaml.</summary>
public sealed record OfflineStoreConfig
{
    /// <summary>The engine; default DuckDB.</summary>
    public OfflineStoreKind Kind { get; init; } = OfflineStoreKind.DuckDb;
    /// <summary>The Npgsql connection string when <see cref="Kind"/> is PostgreSQL.</summary>
    public string? ConnectionString { get; init; }
}

/// <summary>The contents of a repository's granary.yaml.</summary>
public sealed record RepositoryConfig
{
    /// <summary>The configuration file's name at the repository root.</summary>
    public const string FileName = "granary.yaml";

    /// <summary>The project: the registry key every definition belongs to.</summary>
    public required string Project { get; init; }
    /// <summary>Registry storage.</summary>
    public RegistryStoreConfig Registry { get; init; } = new();
    /// <summary>Online persistence.</summary>
    public OnlineStoreConfig OnlineStore { get; init; } = new();
    /// <summary>Offline store.</summary>
    public OfflineStoreConfig OfflineStore { get; init; } = new();
    /// <summary>Where the gateway listens (<c>endpoints:</c>).</summary>
    public EndpointsConfig Endpoints { get; init; } = new();
    /// <summary>Scheduled parity and drift checks and drift thresholds (<c>health:</c>).</summary>
    public HealthConfig Health { get; init; } = new();
    /// <summary>The repository folder this configuration was loaded from (absolute); null when parsed from text.</summary>
    public string? RepositoryRoot { get; init; }
    /// <summary>Logging of served feature vectors (<c>feature_logging:</c>).</summary>
    public FeatureLoggingConfig FeatureLogging { get; init; } = new();
    /// <summary>Authentication and permissions at the gateway (<c>security:</c>).</summary>
    public SecurityConfig Security { get; init; } = new();
    /// <summary>How features tagged <c>pii</c> are masked (<c>masking:</c>).</summary>
    public MaskingConfig Masking { get; init; } = new();

    /// <summary>Resolves a path from the configuration against the repository root.</summary>
    public static string ResolvePath(string repositoryRoot, string path)
        => System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.Combine(repositoryRoot, path));

    /// <summary>Reads <c>granary.yaml</c> from <paramref name="repositoryRoot"/>; throws <see cref="RepositoryValidationException"/> listing every problem.</summary>
    public static RepositoryConfig Load(string repositoryRoot)
    {
        var path = System.IO.Path.Combine(repositoryRoot, FileName);
        if (!File.Exists(path))
            throw new RepositoryValidationException([new RepositoryError(new SourceLocation(FileName, 0),
                $"no {FileName} in '{System.IO.Path.GetFullPath(repositoryRoot)}'; run 'granary init <dir>' to create a repository, or pass --repo <dir>")]);
        return Parse(File.ReadAllText(path), FileName) with { RepositoryRoot = System.IO.Path.GetFullPath(repositoryRoot) };
    }

    /// <summary>Parses granary.yaml text; <paramref name="file"/> names it in errors.</summary>
    public static RepositoryConfig Parse(string text, string file)
    {
        var errors = new List<RepositoryError>();
        var root = FeatureRepositoryLoader.LoadSingleMapping(text, file, errors);
        if (root is null)
        {
            if (errors.Count == 0) errors.Add(new RepositoryError(new SourceLocation(file, 1), "granary.yaml is empty; it needs at least 'project: <name>'"));
            throw new RepositoryValidationException(errors);
        }
        var top = new YamlObject(file, root, file, errors);
        top.RejectUnknownKeys("project", "registry", "online_store", "offline_store", "endpoints", "health", "feature_logging", "security", "masking");
        var project = top.String("project", required: true);
        if (project is not null && !FeatureRepositoryLoader.IsValidName(project))
            top.Error("project", $"project name '{project}' must be letters, digits, '_' or '-'");

        var registry = new RegistryStoreConfig();
        if (top.Node("registry") is YamlScalarNode { Value: { Length: > 0 } registryPath })
            registry = registry with { Path = registryPath };
        else if (ReadStore(top, "registry", RegistryStoreKind.Sqlite, RegistryStoreKind.Postgres, RegistryStoreConfig.DefaultPath, [],
                     ("sqlite", RegistryStoreKind.Sqlite), ("postgres", RegistryStoreKind.Postgres)) is { } r)
            registry = new RegistryStoreConfig { Kind = r.Kind, Path = r.Path!, ConnectionString = r.ConnectionString };

        var online = ReadStore(top, "online_store", OnlineStoreKind.Sqlite, OnlineStoreKind.Redis, OnlineStoreConfig.DefaultPath, ["key_ttl_seconds"],
            ("sqlite", OnlineStoreKind.Sqlite), ("redis", OnlineStoreKind.Redis)) is { } on
            ? new OnlineStoreConfig { Kind = on.Kind, Path = on.Path!, ConnectionString = on.ConnectionString, KeyTtl = KeyTtl(top, errors) }
            : new OnlineStoreConfig();

        var offline = ReadStore(top, "offline_store", OfflineStoreKind.DuckDb, OfflineStoreKind.Postgres, defaultPath: null, [],
            ("duckdb", OfflineStoreKind.DuckDb), ("postgres", OfflineStoreKind.Postgres)) is { } off
            ? new OfflineStoreConfig { Kind = off.Kind, ConnectionString = off.ConnectionString }
            : new OfflineStoreConfig();

        var endpoints = EndpointsConfig.Read(top);

        foreach (var section in new[] { "online_store", "offline_store", "endpoints" })
            if (top.Node(section) is { } n and not YamlMappingNode)
                top.Error(section, $"'{section}' must be a mapping (e.g. type: ...)");
        if (top.Node("registry") is YamlSequenceNode)
            top.Error("registry", "'registry' must be a path or a mapping (type, path, connection_string)");

        var health = HealthConfigReader.ReadHealth(top);
        var featureLogging = HealthConfigReader.ReadFeatureLogging(top);
        var security = SecurityConfig.Read(top);
        var masking = MaskingConfig.Read(top);

        if (errors.Count > 0) throw new RepositoryValidationException(errors);
        return new RepositoryConfig
        {
            Project = project!, Registry = registry, OnlineStore = online, OfflineStore = offline, Endpoints = endpoints,
            Health = health, FeatureLogging = featureLogging, Security = security,
            Masking = masking,
        };
    }

    /// <summary>
    /// Reads a store section (<c>type</c>, <c>path</c> when the store has a file, <c>connection_string</c>, required for
    /// <paramref name="networked"/>); null when the section is absent or not a mapping.
    /// </summary>
    private static (TKind Kind, string? Path, string? ConnectionString)? ReadStore<TKind>(YamlObject top, string key, TKind fallback,
        TKind networked, string? defaultPath, string[] extraKeys, params (string Name, TKind Kind)[] kinds) where TKind : struct, Enum
    {
        if (top.Node(key) is not YamlMappingNode node) return null;
        var o = new YamlObject(top.File, node, key, top.Errors);
        o.RejectUnknownKeys([.. (defaultPath is null ? ["type", "connection_string"] : new[] { "type", "path", "connection_string" }), .. extraKeys]);
        var kind = Kind(o, "type", fallback, kinds);
        var path = defaultPath is null ? null : o.String("path") ?? defaultPath;
        return (kind, path, ExpandEnvironment(o, "connection_string", required: kind.Equals(networked)));
    }

    // Whole seconds, positive, as Feast's key_ttl_seconds.
    private static TimeSpan? KeyTtl(YamlObject top, List<RepositoryError> errors)
    {
        if (top.Node("online_store") is not YamlMappingNode node) return null;
        var o = new YamlObject(top.File, node, "online_store", errors);
        var text = o.String("key_ttl_seconds");
        if (text is null) return null;
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 3_153_600_000)
            return TimeSpan.FromSeconds(seconds);
        o.Error("key_ttl_seconds", $"online_store.key_ttl_seconds '{text}' must be a whole number of seconds between 1 and 3153600000 (100 years); remove it to keep rows until overwritten");
        return null;
    }

    private static TKind Kind<TKind>(YamlObject o, string key, TKind fallback, params (string Name, TKind Kind)[] kinds)
    {
        var text = o.String(key);
        if (text is null) return fallback;
        foreach (var (name, kind) in kinds)
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase)) return kind;
        o.Error(key, $"{o.What}: type '{text}' is unknown; known: {string.Join(", ", kinds.Select(k => k.Name))}");
        return fallback;
    }

    // ${VAR} lets a shared repository keep passwords out of the file, as Feast's feature_store.yaml does.
    private static string? ExpandEnvironment(YamlObject o, string key, bool required)
    {
        var text = o.String(key, required);
        if (text is null) return null;
        return Regex.Replace(text, @"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", m =>
        {
            var value = Environment.GetEnvironmentVariable(m.Groups[1].Value);
            if (value is null) o.Error(key, $"{o.What}: environment variable '{m.Groups[1].Value}' used in '{key}' is not set");
            return value ?? "";
        });
    }
}

/// <summary>granary.yaml <c>security:</c>: whether the gateway checks credentials and permissions.</summary>
public sealed record SecurityConfig
{
    /// <summary>
    /// <c>authorization: on</c> (the default): every request needs credentials and a permission. <c>off</c> lets anyone
    /// who reaches the ports do anything; meant for a laptop, and <c>granary serve</c> says so at start-up.
    /// </summary>
    public bool Authorization { get; init; } = true;

    internal static SecurityConfig Read(YamlObject top)
    {
        if (top.Node("security") is null) return new SecurityConfig();
        if (top.Node("security") is not YamlMappingNode node)
        {
            top.Error("security", "'security' must be a mapping, e.g. security: {authorization: on}");
            return new SecurityConfig();
        }
        var o = new YamlObject(top.File, node, "security", top.Errors);
        o.RejectUnknownKeys("authorization");
        var text = o.String("authorization");
        switch (text?.ToLowerInvariant())
        {
            case null or "on" or "true": return new SecurityConfig();
            case "off" or "false": return new SecurityConfig { Authorization = false };
            default:
                o.Error("authorization", $"security: authorization is '{text}'; write on (the default) or off");
                return new SecurityConfig();
        }
    }
}
