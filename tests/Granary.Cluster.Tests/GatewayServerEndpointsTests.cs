using System.Diagnostics;
using System.Net;
using System.Text;
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
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private SiloProcess? _silo;
    private Process? _gateway;
    private readonly StringBuilder _gatewayOutput = new();

    private string Repo => Path.Combine(_folder, "repo");

    public void Dispose()
    {
        if (_gateway is { HasExited: false }) _gateway.Kill(entireProcessTree: true);
        _gateway?.Dispose();
        _silo?.Dispose();
        _http.Dispose();
        _database.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private string GatewayOutput { get { lock (_gatewayOutput) return _gatewayOutput.ToString(); } }

    /// <summary>Starts granary-gateway.dll (built next to this test project) with <paramref name="args"/>.</summary>
    private void StartGateway(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // <root>/tests/Granary.TestSilo/bin/<configuration>/net10.0 -> <root>/gateway/Granary.Gateway.Server/bin/<configuration>/net10.0
        var siloBin = new FileInfo(SiloProcess.SiloDll).Directory!;
        var root = siloBin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        info.ArgumentList.Add(Path.Combine(root, "gateway", "Granary.Gateway.Server", "bin", siloBin.Parent.Name, "net10.0", "granary-gateway.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        _gateway = Process.Start(info) ?? throw new InvalidOperationException("could not start granary-gateway");
        _gateway.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_gatewayOutput) _gatewayOutput.AppendLine(e.Data); };
        _gateway.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gatewayOutput) _gatewayOutput.AppendLine(e.Data); };
        _gateway.BeginOutputReadLine();
        _gateway.BeginErrorReadLine();
    }

    private Task AnswersAsync(string url) => Eventually.WaitUntil(async () =>
    {
        if (_gateway!.HasExited) throw new InvalidOperationException($"granary-gateway exited ({_gateway.ExitCode}):\n{GatewayOutput}\nsilo:\n{_silo?.Output}");
        try
        {
            using var response = await _http.GetAsync(url);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }, StartLimit, $"GET {url} answers 200");

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
        StartGateway($"--Granary:RepositoryRoot={Repo}", $"--Granary:Gateway:Cluster:ConnectionString={_database.ConnectionString}",
            $"--Granary:Gateway:Cluster:ClusterId={_clusterId}");

        await AnswersAsync($"http://127.0.0.1:{ports[0]}/health");
        await AnswersAsync($"http://127.0.0.1:{ports[2]}/ui/");
        using var client = new GranaryClient(new GranaryClientOptions { Address = new Uri($"http://127.0.0.1:{ports[1]}"), DefaultDeadline = TimeSpan.FromSeconds(10), RetryCount = 0 });
        Assert.Equal(project, (await client.GetRegistryAsync()).Project);
    }
}
