using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DuckDB.NET.Data;

namespace Granary.Grains.Tests;

/// <summary>
/// The silos' clock in these tests: the real clock plus an offset the test moves forward. Timers and delays stay real
/// (Orleans keeps working); only "now" as the grains read it jumps, so ttl and SLA boundaries are crossed without sleeping.
/// </summary>
public sealed class SteppedClock : TimeProvider
{
    private long _offsetTicks;

    /// <summary>Moves "now" forward by <paramref name="by"/>.</summary>
    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
}

/// <summary>
/// A redis-server that belongs to one test: a free loopback port, its own folder, AOF fsynced on every write, so the test
/// can SIGKILL it and start it again on the same port and data without disturbing the shared test Redis.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("granary-own-redis-").FullName;
    private Process? _server;

    /// <summary>Picks the port; call <see cref="StartAsync"/> to run the server.</summary>
    public PrivateRedis()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
    }

    /// <summary>The server's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>
    /// A StackExchange.Redis configuration for it with short timeouts, so a call made while it is down fails in about a
    /// second instead of the library's default five.
    /// </summary>
    public string Configuration => $"127.0.0.1:{Port},connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000,connectRetry=1";

    /// <summary>Starts (or restarts) the server on the same port and folder, and waits until it answers.</summary>
    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("redis-server") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _dir,
                     "--save", "", "--appendonly", "yes", "--appendfsync", "always" })
            info.ArgumentList.Add(arg);
        _server = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        _server.OutputDataReceived += static (_, _) => { };
        _server.ErrorDataReceived += static (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        for (var i = 0; !await AnswersAsync(); i++)
        {
            if (i == 300 || _server.HasExited)
            {
                await KillAsync();
                throw new InvalidOperationException($"redis-server on port {Port} did not come up (folder {_dir})");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no shutdown save; only what the AOF holds comes back.</summary>
    public async Task KillAsync()
    {
        if (_server is not { } server) return;
        _server = null;
        if (!server.HasExited) server.Kill();
        await server.WaitForExitAsync();
        server.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var reply = new byte[8];
            var read = await stream.ReadAsync(reply);
            return read >= 5 && reply[0] == (byte)'+' && reply[1] == (byte)'P';
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }
}

/// <summary>Waits for a condition the cluster reaches on its own (a reconnect, a reminder tick), with a generous cap.</summary>
public static class Until
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; fails naming <paramref name="what"/> after <paramref name="cap"/> (default 60 s).</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? cap = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = cap ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception) when (clock.Elapsed < limit) { } // not yet: the store or silo is still coming back
            if (clock.Elapsed >= limit) throw new TimeoutException($"gave up waiting for {what} after {limit.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}

/// <summary>Runs DuckDB SQL in memory (test data generation and brute-force references).</summary>
internal static class DuckSql
{
    public static void Run(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
