using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Granary.Testing;

namespace Granary.Observability.Tests;

/// <summary>
/// A real Prometheus (Debian's /usr/bin/prometheus) in its own temp folder on a free loopback port, scraping the given
/// targets every second with the shipped alert rules loaded; killed and its folder removed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    /// <summary>How long to wait for Prometheus or a scrape (generous: the machine is shared; not a timing assertion).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _log = new();

    private PrometheusServer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    /// <summary>Prometheus' HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>What Prometheus logged, for failure messages.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Starts Prometheus scraping <paramref name="jobs"/> (job name to host:port targets).</summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyDictionary<string, string[]> jobs)
    {
        var folder = Directory.CreateTempSubdirectory("granary-prometheus-").FullName;
        File.Copy(Path.Combine(DeployFiles.PrometheusFolder, "granary-alerts.yml"), Path.Combine(folder, "granary-alerts.yml"));
        var config = new StringBuilder("""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - granary-alerts.yml
            scrape_configs:

            """);
        foreach (var (job, targets) in jobs)
        {
            config.Append(CultureInfo.InvariantCulture, $"  - job_name: {job}\n    static_configs:\n      - targets: [{string.Join(", ", targets.Select(t => $"\"{t}\""))}]\n");
        }
        var configPath = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());

        var port = FreePorts.Take(1)[0];
        var info = new ProcessStartInfo("/usr/bin/prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
        foreach (var arg in new[] { $"--config.file={configPath}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
            info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start /usr/bin/prometheus");
        var server = new PrometheusServer(process, folder, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.WaitUntil(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited ({process.ExitCode}):\n{server.Log}");
            try { return (await server.Http.GetAsync("/-/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, Limit, "prometheus answers /-/ready");
        return server;
    }

    /// <summary>An instant PromQL query; answers each result's labels and value (empty when nothing matches).</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var response = await Http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"query {promql} failed: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        var data = json.RootElement.GetProperty("data");
        var results = new List<(IReadOnlyDictionary<string, string>, double)>();
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            results.Add((new Dictionary<string, string>(), Number(data.GetProperty("result")[1])));
            return results;
        }
        foreach (var item in data.GetProperty("result").EnumerateArray())
        {
            var labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            results.Add((labels, Number(item.GetProperty("value")[1])));
        }
        return results;
    }

    /// <summary>The value of a query that answers one series, or null when it answers none.</summary>
    public async Task<double?> ScalarAsync(string promql)
    {
        var results = await QueryAsync(promql);
        return results.Count switch
        {
            0 => null,
            1 => results[0].Value,
            _ => throw new InvalidOperationException($"query {promql} answered {results.Count} series"),
        };
    }

    /// <summary>Waits until <paramref name="promql"/> answers <paramref name="expected"/> (scrapes land every second), then returns it.</summary>
    public async Task<double?> WaitForAsync(string promql, double expected)
    {
        double? last = null;
        try
        {
            await Eventually.WaitUntil(async () => (last = await ScalarAsync(promql)) is { } v && Math.Abs(v - expected) < 1e-9, Limit, promql);
        }
        catch (TimeoutException)
        {
            // Fall through: the caller's assertion shows the value that was there.
        }
        return last;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    private static double Number(JsonElement value) => double.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
}
