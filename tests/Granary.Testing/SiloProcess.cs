using System.Diagnostics;
using System.Text;

namespace Granary.Testing;

/// <summary>
/// A silo process started by a test (`dotnet Granary.TestSilo.dll ...`: Granary.Silo's program with the diagnostics grains), killed or stopped by it.
/// </summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private SiloProcess(Process process, int siloPort, int gatewayPort, int httpPort)
    {
        this.process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    public int SiloPort { get; }
    public int GatewayPort { get; }
    public int HttpPort { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;

    /// <summary>What the silo printed so far, for failure messages.</summary>
    public string Output { get { lock (output) return output.ToString(); } }

    public static SiloProcess Start(params string[] extraArgs)
    {
        var ports = FreePorts.Take(3);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloDll);
        foreach (var arg in new[] { "--port", $"{ports[0]}", "--gateway-port", $"{ports[1]}", "--http-port", $"{ports[2]}" }.Concat(extraArgs))
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start dotnet {SiloDll}.");
        var silo = new SiloProcess(process, ports[0], ports[1], ports[2]);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>SIGKILL: the process gets no chance to leave the cluster.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>Waits for the process to exit on its own and answers its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    /// <summary>The silo built next to this test project (the project reference builds it first).</summary>
    public static string SiloDll { get; } = FindSiloDll();

    private static string FindSiloDll()
    {
        // bin/<Configuration>/net10.0 of this test project -> the same configuration of tests/Granary.TestSilo.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testBin.Parent!.Name;
        for (var dir = testBin; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Granary.TestSilo", "bin", configuration, "net10.0", "Granary.TestSilo.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"Granary.TestSilo.dll ({configuration}) not found above {testBin.FullName}; build tests/Granary.TestSilo first.");
    }
}
