using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Granary.Gateway.Tests;

/// <summary>A redis-server of a test's own, on a free loopback port in a temp folder; killed (SIGKILL) on demand and at the end.</summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-gateway-redis-").FullName;
    private Process? _redis;

    /// <summary>The port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>granary.yaml's online_store section pointing at this server.</summary>
    public string OnlineStoreYaml => $"online_store:\n  type: redis\n  connection_string: 127.0.0.1:{Port}\n";

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _redis = Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _folder, "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
        })!;
        _redis.OutputDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();
        for (var i = 0; ; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (i < 100)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Kills the server (SIGKILL).</summary>
    public async Task KillAsync()
    {
        if (_redis is null) return;
        _redis.Kill();
        await _redis.WaitForExitAsync();
        _redis.Dispose();
        _redis = null;
    }

    /// <summary>Kills the server and removes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
