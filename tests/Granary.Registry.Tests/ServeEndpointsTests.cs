using System.Net;
using Granary.Client;
using Granary.Repository;
using Granary.Testing;

namespace Granary.Registry.Tests;

/// <summary>
/// <c>granary serve</c> listens where <c>endpoints:</c> of granary.yaml says, flags override it, and a bare <c>--server</c>
/// connects to the repository's <c>endpoints.grpc</c>; bad endpoint values stop it with the key and the fix.
/// </summary>
public sealed class ServeEndpointsTests : IAsyncLifetime
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-serve-endpoints-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private string Repo => Path.Combine(_folder, "repo");

    public async Task InitializeAsync()
    {
        Ok(await CliRunner.RunAsync("init", Repo));
        Ok(await CliRunner.RunAsync("--repo", Repo, "apply"));
        Ok(await CliRunner.RunAsync("--repo", Repo, "materialize-incremental", "now"));
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private static void Ok((int ExitCode, string Output) run) => Assert.True(run.ExitCode == 0, run.Output);

    /// <summary>Replaces the sample's endpoints: section.</summary>
    private void WriteEndpoints(string section)
    {
        var path = Path.Combine(Repo, RepositoryConfig.FileName);
        var yaml = File.ReadAllText(path);
        var start = yaml.IndexOf("endpoints:", StringComparison.Ordinal);
        Assert.True(start >= 0, "the sample granary.yaml has an endpoints: section");
        // These tests are about ports, not security: the served repository turns authorization off explicitly.
        File.WriteAllText(path, yaml[..start] + section + "security:\n  authorization: off\n");
    }

    /// <summary>Runs <c>granary serve</c> with <paramref name="flags"/> until <paramref name="whileServing"/> is done, then stops it as Ctrl+C does.</summary>
    private async Task<(int ExitCode, string Output)> ServeAsync(string[] flags, Func<Task> whileServing)
    {
        using var stop = new CancellationTokenSource();
        var serving = Granary.Testing.CliRunner.RunAsync(220, ["--repo", Repo, "serve", .. flags], stop.Token);
        try
        {
            await whileServing();
        }
        finally
        {
            stop.Cancel();
        }
        return await serving.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until <paramref name="url"/> answers 200, failing early if serve has already ended.</summary>
    private Task AnswersAsync(string url) => Eventually.WaitUntil(async () =>
    {
        try
        {
            using var response = await _http.GetAsync(url);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }, StartLimit, $"GET {url} answers 200");

    private static async Task<string> ProjectOverGrpcAsync(int port)
    {
        using var client = new GranaryClient(new GranaryClientOptions { Address = new Uri($"http://127.0.0.1:{port}"), DefaultDeadline = TimeSpan.FromSeconds(10), RetryCount = 0 });
        return (await client.GetRegistryAsync()).Project;
    }

    [Fact]
    public async Task Serve_listens_on_the_ports_granary_yaml_names_and_a_bare_server_flag_connects_there()
    {
        var ports = FreePorts.Take(3);
        var (rest, grpc, web) = (ports[0], ports[1], ports[2]);
        WriteEndpoints($"endpoints:\n  rest: 127.0.0.1:{rest}\n  grpc: 127.0.0.1:{grpc}\n  web: 127.0.0.1:{web}\n");
        var project = RepositoryConfig.Load(Repo).Project;
        string[] readArgs = ["--repo", Repo, "get-online-features", "--features", "driver_hourly_stats:conv_rate", "--entity", "driver_id=1001"];
        // The reference: the same read on the embedded store, before serve opens it.
        var embedded = await CliRunner.RunAsync(readArgs);
        Ok(embedded);
        (int ExitCode, string Output) read = default;

        var served = await ServeAsync([], async () =>
        {
            await AnswersAsync($"http://127.0.0.1:{rest}/health");
            await AnswersAsync($"http://127.0.0.1:{web}/ui/");
            Assert.Equal(project, await ProjectOverGrpcAsync(grpc));
            // No address after --server: the CLI dials endpoints.grpc of the same granary.yaml.
            read = await CliRunner.RunAsync([.. readArgs, "--server"]);
        });

        Ok(served);
        Assert.Contains($"http://127.0.0.1:{rest}/health", served.Output);
        Assert.Contains($"http://127.0.0.1:{grpc}", served.Output);
        Assert.Contains($"http://127.0.0.1:{web}/ui", served.Output);
        Ok(read);
        Assert.Equal(embedded.Output, read.Output);
    }

    [Fact]
    public async Task Flags_override_the_ports_of_granary_yaml()
    {
        var ports = FreePorts.Take(5);
        WriteEndpoints($"endpoints:\n  rest: 127.0.0.1:{ports[0]}\n  grpc: 127.0.0.1:{ports[1]}\n  web: 127.0.0.1:{ports[2]}\n");
        var (rest, grpc) = (ports[3], ports[4]);
        var project = RepositoryConfig.Load(Repo).Project;

        var served = await ServeAsync(["--rest-port", rest.ToString(), "--grpc-port", grpc.ToString(), "--web-port", "-1"], async () =>
        {
            await AnswersAsync($"http://127.0.0.1:{rest}/health");
            Assert.Equal(project, await ProjectOverGrpcAsync(grpc));
        });

        Ok(served);
        Assert.Contains($"http://127.0.0.1:{rest}/health", served.Output);
        Assert.Contains($"http://127.0.0.1:{grpc}", served.Output);
        // The yaml's ports are not served: the table names only the flags' ports, and the web port is off.
        foreach (var yamlPort in ports[..3]) Assert.DoesNotContain($"127.0.0.1:{yamlPort}", served.Output);
    }

    [Fact]
    public async Task Serve_says_loudly_when_authorization_is_off_and_refuses_requests_without_credentials_when_on()
    {
        var ports = FreePorts.Take(2);
        WriteEndpoints($"endpoints:\n  rest: 127.0.0.1:{ports[0]}\n  grpc: 127.0.0.1:{ports[1]}\n  web: off\n");
        var off = await ServeAsync([], () => AnswersAsync($"http://127.0.0.1:{ports[0]}/health"));
        Ok(off);
        Assert.Contains("AUTHORIZATION IS OFF", off.Output);

        // The same repository without the setting: authorization is on by default.
        var path = Path.Combine(Repo, RepositoryConfig.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("security:\n  authorization: off\n", "", StringComparison.Ordinal));
        HttpStatusCode refused = default;
        var on = await ServeAsync([], async () =>
        {
            await AnswersAsync($"http://127.0.0.1:{ports[0]}/health");
            using var read = await _http.PostAsync($"http://127.0.0.1:{ports[0]}/get-online-features",
                new StringContent("""{"features": ["driver_hourly_stats:conv_rate"], "entities": {"driver_id": [1001]}}""", System.Text.Encoding.UTF8, "application/json"));
            refused = read.StatusCode;
        });
        Ok(on);
        Assert.DoesNotContain("AUTHORIZATION IS OFF", on.Output);
        Assert.Contains("authorization on", on.Output);
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
    }

    [Fact]
    public async Task A_bad_endpoint_in_granary_yaml_stops_serve_with_the_key_and_the_fix()
    {
        WriteEndpoints("endpoints:\n  rest: 127.0.0.1:6566\n  grpc: 127.0.0.1:6566\n  web: 127.0.0.1:99999\n");

        // Serve stops on its own before listening; the limit only turns a hang into a failure.
        var served = await CliRunner.RunAsync("--repo", Repo, "serve").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, served.ExitCode);
        Assert.Contains("endpoints.grpc port 6566 is also endpoints.rest's; gRPC needs its own HTTP/2-only port (default 6570)", served.Output);
        Assert.Contains("endpoints.web port '99999' in '127.0.0.1:99999' is not a port between 0 and 65535 (0 = any free port); write e.g. 'web: 127.0.0.1:8888'", served.Output);
    }
}
