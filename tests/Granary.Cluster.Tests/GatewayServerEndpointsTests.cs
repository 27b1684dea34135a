using Granary.Client;
using Granary.Repository;
using Orleans.Runtime;

namespace Granary.Cluster.Tests;

/// <summary>
/// The granary-gateway executable (gateway/Granary.Gateway.Server) given the repository (<c>Granary:RepositoryRoot</c>)
/// serves its project on the ports its <c>endpoints:</c> names, as an Orleans client of a silo process on PostgreSQL membership.
/// </summary>
public sealed class GatewayServerEndpointsTests : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(120);
    private readonly TestDatabase _database = new();
    private readonly string _clusterId = "gwyaml-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-gateway-yaml-").FullName;
    private SiloProcess? _silo;
    private GatewayProcess? _gateway;

    private string Repo => Path.Combine(_folder, "repo");

    public void Dispose()
    {
        _gateway?.Dispose();
        _silo?.Dispose();
        _database.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task The_gateway_given_the_repository_serves_its_project_on_its_endpoints()
    {
        Assert.Equal(0, (await CliRunner.RunAsync("init", Repo)).ExitCode);
        var ports = FreePorts.Take(3);
        var config = Path.Combine(Repo, RepositoryConfig.FileName);
        var yaml = File.ReadAllText(config);
        File.WriteAllText(config, yaml[..yaml.IndexOf("endpoints:", StringComparison.Ordinal)]
            + $"endpoints:\n  rest: 127.0.0.1:{ports[0]}\n  grpc: 127.0.0.1:{ports[1]}\n  web: 127.0.0.1:{ports[2]}\n");
        var project = RepositoryConfig.Load(Repo).Project;
        Assert.Equal(0, (await CliRunner.RunAsync("--repo", Repo, "apply")).ExitCode);

        _silo = SiloProcess.Start("--cluster-id", _clusterId, "--postgres", _database.ConnectionString, "--repo", Repo);
        // The silo creates the membership schema the gateway reads: wait until it is Active.
        await Eventually.WaitUntil(() => _silo.HasExited || _database.QueryOrEmpty<int>(
                $"SELECT status FROM granary_membership WHERE cluster_id = '{_clusterId}' AND port = {_silo.SiloPort}").Contains((int)SiloStatus.Active),
            StartLimit, "the silo process is Active");
        Assert.False(_silo.HasExited, "the silo exited at start:\n" + _silo.Output);
        // No Granary:Gateway:Project or port settings: all of them come from granary.yaml.
        _gateway = GatewayProcess.Start($"--Granary:RepositoryRoot={Repo}", $"--Granary:Gateway:Cluster:ConnectionString={_database.ConnectionString}",
            $"--Granary:Gateway:Cluster:ClusterId={_clusterId}");

        await _gateway.AnswersAsync($"http://127.0.0.1:{ports[0]}/health", StartLimit, () => $"silo:\n{_silo.Output}");
        await _gateway.AnswersAsync($"http://127.0.0.1:{ports[2]}/ui/", StartLimit, () => $"silo:\n{_silo.Output}");
        using var client = new GranaryClient(new GranaryClientOptions { Address = new Uri($"http://127.0.0.1:{ports[1]}"), DefaultDeadline = TimeSpan.FromSeconds(10), RetryCount = 0 });
        Assert.Equal(project, (await client.GetRegistryAsync()).Project);
    }
}
