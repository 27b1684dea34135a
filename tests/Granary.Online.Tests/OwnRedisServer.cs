using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Granary.Online.Tests;

/// <summary>
/// A redis-server of the test's own, on a free loopback port with AOF on (fsync on every write) in a temp folder, so a
/// test may kill and restart it without touching the shared test Redis.
/// </summary>
internal sealed class OwnRedisServer : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"granary-redis-{Guid.NewGuid():N}");
    private readonly string[] _extraArguments;
    private Process? _process;

    public OwnRedisServer(params string[] extraArguments)
    {
        _extraArguments = extraArguments;
        Directory.CreateDirectory(_folder);
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public int Port { get; }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--dir", _folder, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no" },
            RedirectStandardOutput = true,
            WorkingDirectory = _folder,
            RedirectStandardError = true,
        };
        foreach (var a in _extraArguments) start.ArgumentList.Add(a);
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try { await Eventually.TrueAsync(() => Task.FromResult(Pings()), $"redis-server on port {Port} to answer"); }
        catch
        {
            await KillAsync(); // never leave a server behind a failed start
            throw;
        }
    }

    /// <summary>Kills the server with SIGKILL: no shutdown save, only what the AOF holds survives.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private bool Pings()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            var n = stream.Read(buffer);
            return n >= 5 && System.Text.Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }
}
