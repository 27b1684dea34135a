using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Granary.Testing;

/// <summary>
/// A redis-server of a test's own, on a free loopback port in a temp folder, so a test may kill (SIGKILL) and restart it
/// without touching the shared test Redis. Killed and its folder removed at the end.
/// </summary>
public sealed class RedisServerProcess : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly string _folder = Directory.CreateTempSubdirectory("granary-redis-").FullName;
    private readonly bool _durable;
    private readonly string[] _extraArguments;
    private Process? _process;

    /// <summary>A server not started yet; its port is chosen now, so a test can name it before the start.</summary>
    /// <param name="durable">
    /// true: append-only file with fsync on every write, so what was acknowledged survives a kill and a restart in the same
    /// folder; false: nothing persisted.
    /// </param>
    /// <param name="extraArguments">More redis-server arguments (e.g. <c>--cluster-enabled yes</c>).</param>
    public RedisServerProcess(bool durable = true, params string[] extraArguments)
    {
        _durable = durable;
        _extraArguments = extraArguments;
        Port = FreePorts.One();
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>host:port, as StackExchange.Redis and granary.yaml take it.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>granary.yaml's online_store section pointing at this server.</summary>
    public string OnlineStoreYaml => $"online_store:\n  type: redis\n  connection_string: {Endpoint}\n";

    /// <summary>Starts the server (again, after <see cref="Kill"/>) and waits until it answers PING.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _folder,
        };
        string[] persistence = _durable ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
        foreach (var a in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _folder, "--save", "", "--daemonize", "no" }
                     .Concat(persistence).Concat(_extraArguments))
        {
            start.ArgumentList.Add(a);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start; install it (apt-get install redis-server).");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            await Eventually.WaitUntil(() =>
            {
                if (_process.HasExited) throw new InvalidOperationException($"redis-server on port {Port} exited with code {_process.ExitCode} while starting");
                return Pings();
            }, StartLimit, $"redis-server on port {Port} to answer PING");
        }
        catch
        {
            Kill(); // never leave a server behind a failed start
            throw;
        }
    }

    /// <summary>Kills the server with SIGKILL: no shutdown save, only what the append-only file holds survives.</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <inheritdoc cref="Kill"/>
    public async Task KillAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>
    /// Stops the server's process (SIGSTOP) without closing its connections: clients see a store that accepts commands and
    /// never answers, as a stalled or overloaded server does. <see cref="Resume"/> continues it.
    /// </summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Continues a server stopped by <see cref="PauseAsync"/> (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        var process = _process ?? throw new InvalidOperationException($"redis-server on port {Port} is not running");
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
            ?? throw new InvalidOperationException("kill did not start");
        using var limit = new CancellationTokenSource(StartLimit);
        await kill.WaitForExitAsync(limit.Token);
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {process.Id} exited with code {kill.ExitCode}");
    }

    /// <summary>Kills the server and removes its folder.</summary>
    public void Dispose()
    {
        Kill();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    /// <inheritdoc cref="Dispose"/>
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
            return n >= 5 && Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }
}
