using Granary.Hosting;
using Granary.Registry;
using Granary.Repository;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Granary.Cli;

/// <summary>
/// The repository's registry and stores opened directly, without a silo: what plan, apply and the registry commands need.
/// The registry's rules (compare-and-set, breaking-change guard) live in <see cref="RegistryService"/>, so a silo running
/// elsewhere on the same database sees these writes as another writer's (its long polls re-read the store).
/// </summary>
public sealed class LocalRegistry : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private LocalRegistry(ServiceProvider services, RepositoryConfig config, string root)
    {
        _services = services;
        Config = config;
        RepositoryRoot = root;
        Service = services.GetRequiredService<RegistryService>();
    }

    /// <summary>The repository's configuration (granary.yaml).</summary>
    public RepositoryConfig Config { get; }

    /// <summary>The project name.</summary>
    public string Project => Config.Project;

    /// <summary>The repository folder (absolute).</summary>
    public string RepositoryRoot { get; }

    /// <summary>The registry's rules over the configured registry store.</summary>
    public RegistryService Service { get; }

    /// <summary>The API keys, kept in the registry database.</summary>
    public Granary.Core.Security.IApiKeyStore ApiKeys => _services.GetRequiredService<Granary.Core.Security.IApiKeyStore>();

    /// <summary>The quarantine of data rules, kept in the registry database.</summary>
    public Quality.IQuarantineStore Quarantine => _services.GetRequiredService<Quality.IQuarantineStore>();

    /// <summary>Reads real source columns through the configured offline stores (opened on first use).</summary>
    public ISourceSchemaReader SchemaReader => _services.GetRequiredService<ISourceSchemaReader>();

    /// <summary>The repository's audit log (its schema created on first use by <see cref="Audit.IAuditStore.InitializeAsync"/>).</summary>
    public Audit.IAuditStore AuditStore => _services.GetRequiredService<Audit.IAuditStore>();

    /// <summary>Compiles transforms once per set of sources for this process (validation and apply share it).</summary>
    public TransformCatalog Transforms => _services.GetRequiredService<TransformCatalog>();

    /// <summary>Opens the registry of the repository at <paramref name="root"/>, creating its schema when missing.</summary>
    public static async Task<LocalRegistry> OpenAsync(string root, CancellationToken cancellationToken)
    {
        var config = RepositoryConfig.Load(root);
        var services = new ServiceCollection()
            .AddGranaryOptions(config, root)
            .AddGranaryStoreEngines()
            .AddGranaryStores()
            .AddSingleton(new TransformCatalog(GranaryHostingExtensions.TransformCacheFolder(root)))
            .AddSingleton(sp => new RegistryService(sp.GetRequiredService<IRegistryStore>(), sp.GetRequiredService<TransformCatalog>(), sp.GetRequiredService<TimeProvider>()))
            .BuildServiceProvider();
        try
        {
            // Resolving the options runs their validator, as a silo's start would.
            _ = services.GetRequiredService<IOptions<GranaryOptions>>().Value;
            await services.GetRequiredService<IRegistryStore>().InitializeAsync(cancellationToken);
            return new LocalRegistry(services, config, root);
        }
        catch
        {
            await services.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Version <paramref name="version"/> of the project, or the current one when null. Versions start at 1: asking for 0 (or
    /// less) is an error naming the current version, not the empty registry a project has before its first apply.
    /// </summary>
    public async Task<Definitions.RegistrySnapshot> ReadAsync(long? version, CancellationToken cancellationToken)
    {
        if (version is not { } v) return await Service.GetLatestAsync(Project, cancellationToken);
        if (v < 1)
        {
            var current = await Service.GetLatestAsync(Project, cancellationToken);
            throw new CliException($"project '{Project}' has no registry version {v}; current version is {current.Version}",
                current.Version == 0 ? "run 'granary apply' to create version 1" : "versions start at 1; see 'granary registry history'");
        }
        return await Service.GetVersionAsync(Project, v, cancellationToken);
    }

    /// <summary>Closes the stores.</summary>
    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
