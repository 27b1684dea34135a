using Granary.Cli;
using Granary.Gateway;
using Granary.Hosting;
using Granary.Definitions;
using Granary.Registry;
using Xunit;
using Orleans.Hosting;

namespace Granary.Testing;

/// <summary>
/// A real server in the test process: an embedded silo over a fresh <see cref="TestRepository"/> (by default SQLite
/// registry and online store, DuckDB over Parquet) and the gateway on loopback ports. A subclass says what the repository
/// holds (<see cref="Yaml"/>, <see cref="WriteData"/>), how the project is set up once the silo runs
/// (<see cref="SetUpProjectAsync"/>: apply, materialize) and how the gateway listens (<see cref="ConfigureGateway"/>).
/// </summary>
public abstract class EmbeddedServerFixture : IAsyncLifetime
{
    /// <param name="projectPrefix">The project name's start; a random suffix keeps runs side by side apart (Redis keys, databases).</param>
    /// <param name="folderPrefix">The temp folder's name start, to tell fixtures' folders apart.</param>
    protected EmbeddedServerFixture(string projectPrefix, string folderPrefix)
    {
        Project = projectPrefix + Guid.NewGuid().ToString("N")[..8];
        Repository = new TestRepository(folderPrefix);
    }

    /// <summary>The project the definitions are applied to.</summary>
    public string Project { get; }

    /// <summary>The repository the silo runs over.</summary>
    public TestRepository Repository { get; }

    /// <summary>The repository's root folder.</summary>
    public string RepositoryRoot => Repository.Root;

    /// <summary>The embedded silo.</summary>
    public EmbeddedFeatureStore Store { get; private set; } = null!;

    /// <summary>The gateway over <see cref="Store"/>; null between <see cref="StopGatewayAsync"/> and <see cref="StartGatewayAsync"/>.</summary>
    public EmbeddedGateway Gateway { get; private set; } = null!;

    /// <summary>An HTTP client on the gateway's REST port (made anew by each <see cref="StartGatewayAsync"/>).</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>granary.yaml after the project line; default none (the embedded SQLite stores).</summary>
    protected virtual string Yaml => "";

    /// <summary>Starts servers the repository needs (e.g. a redis-server of its own), before anything else.</summary>
    protected virtual Task StartServersAsync() => Task.CompletedTask;

    /// <summary>Writes the sources' data files into the repository, before the silo starts.</summary>
    protected abstract void WriteData(TestRepository repository);

    /// <summary>More silo configuration (e.g. the dashboard); default none.</summary>
    protected virtual void ConfigureSilo(ISiloBuilder silo)
    {
    }

    /// <summary>Sets the project up once the silo runs: apply definitions (<see cref="ApplyAsync"/>), materialize views (<see cref="MaterializeAsync"/>).</summary>
    protected abstract Task SetUpProjectAsync();

    /// <summary>The gateway's ports and limits.</summary>
    protected abstract void ConfigureGateway(GatewayOptions options);

    /// <summary>More gateway services (e.g. a test's middleware through an <c>IStartupFilter</c>); default none.</summary>
    protected virtual void ConfigureGatewayServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
    {
    }

    /// <summary>The client <see cref="Http"/> becomes; default no settings beyond the base address.</summary>
    protected virtual HttpClient CreateHttpClient(Uri restUrl) => new() { BaseAddress = restUrl };

    /// <summary>Servers, repository, silo, project, gateway: in that order.</summary>
    public virtual async Task InitializeAsync()
    {
        await StartServersAsync();
        await Repository.WriteGranaryYamlAsync(Project, Yaml);
        WriteData(Repository);
        Store = await EmbeddedFeatureStore.StartAsync(Repository.Root, ConfigureSilo);
        await SetUpProjectAsync();
        await StartGatewayAsync();
    }

    /// <summary>Starts the gateway (again, after <see cref="StopGatewayAsync"/>); the silo keeps running in between.</summary>
    public async Task StartGatewayAsync()
    {
        Gateway = await EmbeddedGateway.StartAsync(Store, o =>
        {
            // These fixtures test serving, not security: authorization off unless ConfigureGateway turns it on.
            o.Security.Authorization = false;
            ConfigureGateway(o);
        }, services: ConfigureGatewayServices);
        Http?.Dispose();
        Http = CreateHttpClient(new Uri(Gateway.RestUrl));
    }

    /// <summary>Stops the gateway; the silo keeps running.</summary>
    public async Task StopGatewayAsync()
    {
        if (Gateway is not null) await Gateway.DisposeAsync();
        Gateway = null!;
    }

    /// <summary>Applies <paramref name="definitions"/>, expecting the registry at <paramref name="expectedVersion"/>.</summary>
    protected Task ApplyAsync(RegistrySnapshot definitions, long expectedVersion = 0) => Store.Grains.ApplyAsync(definitions, expectedVersion);

    /// <summary>Materializes <paramref name="view"/> of <see cref="Project"/> over [start, end) and waits; throws unless it succeeded.</summary>
    public Task MaterializeAsync(string view, DateTimeOffset start, DateTimeOffset end) => Store.Grains.MaterializeAsync(Project, view, start, end);

    /// <summary>Gateway, silo, then the repository folder.</summary>
    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        await StopGatewayAsync();
        if (Store is not null) await Store.DisposeAsync();
        Repository.Dispose();
    }
}
