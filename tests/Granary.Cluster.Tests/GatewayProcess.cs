using System.Diagnostics;
using System.Net;
using System.Text;

namespace Granary.Cluster.Tests;

/// <summary>The granary-gateway executable (gateway/Granary.Gateway.Server, built next to the test silo) started by a test, killed at the end.</summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process) => _process = process;

    /// <summary>What it printed so far, for failure messages.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts granary-gateway.dll with <paramref name="args"/>.</summary>
    public static GatewayProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // <root>/tests/Granary.TestSilo/bin/<configuration>/net10.0 -> <root>/gateway/Granary.Gateway.Server/bin/<configuration>/net10.0
        var siloBin = new FileInfo(SiloProcess.SiloDll).Directory!;
        var root = siloBin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        info.ArgumentList.Add(Path.Combine(root, "gateway", "Granary.Gateway.Server", "bin", siloBin.Parent.Name, "net10.0", "granary-gateway.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        // These tests exercise clustering and failover, not security: authorization off explicitly.
        info.Environment["Granary__Gateway__Security__Authorization"] = "false";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start granary-gateway");
        var gateway = new GatewayProcess(process);
        process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return gateway;
    }

    /// <summary>Waits until GET <paramref name="url"/> answers 200; fails at once, with its output, if the gateway exits.</summary>
    public Task AnswersAsync(string url, TimeSpan limit, Func<string>? context = null)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return Eventually.WaitUntil(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"granary-gateway exited ({_process.ExitCode}):\n{Output}\n{context?.Invoke()}");
            try
            {
                using var response = await http.GetAsync(url);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, limit, $"GET {url} answers 200").ContinueWith(t => { http.Dispose(); t.GetAwaiter().GetResult(); });
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
