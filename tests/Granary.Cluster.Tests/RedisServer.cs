using System.Diagnostics;
using System.Net.Sockets;

namespace Granary.Cluster.Tests;

/// <summary>A redis-server of the test's own (free port, temporary folder, AOF with fsync on every write).</summary>
public sealed class RedisServer : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("granary-redis-").FullName;
    private Process? process;

    public RedisServer() => Port = FreePorts.Take(1)[0];

    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--port", $"{Port}", "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "yes", "--appendfsync", "always" })
        {
            info.ArgumentList.Add(arg);
        }
        process = Process.Start(info) ?? throw new InvalidOperationException("Could not start redis-server; install it (apt-get install redis-server).");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        await Eventually.WaitUntil(Accepts, TimeSpan.FromSeconds(20), $"redis-server accepting connections on {Endpoint}");
    }

    /// <summary>SIGKILL: only what reached the append-only file survives.</summary>
    public void Kill()
    {
        if (process is { HasExited: false }) process.Kill();
        process?.WaitForExit();
        process?.Dispose();
        process = null;
    }

    public void Dispose()
    {
        Kill();
        Directory.Delete(directory, recursive: true);
    }

    private bool Accepts()
    {
        try
        {
            using var socket = new TcpClient("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
