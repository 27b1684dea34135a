using System.Collections.Concurrent;
using Granary.Runtime.Cluster.Membership;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>
/// Outbound connections of one silo or client: one connection per target silo, opened on first use and
/// replaced when it breaks; a background scan fails calls past their timeout.
/// </summary>
public sealed class SiloConnector : IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<SiloAddress, Task<OutboundConnection>> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _timeoutScan;

    /// <summary>Creates the connector; connections open lazily.</summary>
    public SiloConnector(ClusterOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _timeoutScan = Task.Run(ScanTimeoutsAsync);
    }

    /// <summary>The open (or opening) connection to <paramref name="silo"/>, opening one if needed.</summary>
    public ValueTask<OutboundConnection> GetConnectionAsync(SiloAddress silo)
    {
        if (_stopping.IsCancellationRequested)
        {
            return ValueTask.FromException<OutboundConnection>(new ObjectDisposedException(nameof(SiloConnector), "The connector is stopped; no more calls can be sent."));
        }
        var task = _connections.GetOrAdd(silo, Connect);
        if (task.IsCompletedSuccessfully)
        {
            var connection = task.Result;
            if (!connection.IsClosed) return ValueTask.FromResult(connection);
            _connections.TryRemove(new KeyValuePair<SiloAddress, Task<OutboundConnection>>(silo, task));
            return new ValueTask<OutboundConnection>(_connections.GetOrAdd(silo, Connect));
        }
        return new ValueTask<OutboundConnection>(task);
    }

    private Task<OutboundConnection> Connect(SiloAddress silo)
    {
        var task = OutboundConnection.ConnectAsync(silo, _options, _logger, _stopping.Token);
        // A failed connect must not stay cached: the next call tries again.
        task.ContinueWith(t =>
        {
            if (t.IsFaulted || t.IsCanceled) _connections.TryRemove(new KeyValuePair<SiloAddress, Task<OutboundConnection>>(silo, task));
            else t.Result.Closed.ContinueWith(_ => _connections.TryRemove(new KeyValuePair<SiloAddress, Task<OutboundConnection>>(silo, task)), TaskScheduler.Default);
        }, TaskScheduler.Default);
        return task;
    }

    /// <summary>Sends a request to <paramref name="silo"/> and awaits its response (see <see cref="OutboundConnection.CallAsync{TBody}"/>).</summary>
    public async Task<Message> CallAsync<TBody>(SiloAddress silo, MessageHeader header, TBody body, TimeSpan timeout, string description) where TBody : IFrameBody
    {
        var connection = await GetConnectionAsync(silo);
        return await connection.CallAsync(header, body, timeout, description);
    }

    /// <summary>How long frames sent without a response (one-way calls, gossip) stay valid: 30 s, Orleans' response timeout.</summary>
    public static readonly TimeSpan OneWayTimeToLive = TimeSpan.FromSeconds(30);

    /// <summary>Sends a frame that expects no response (one-way calls, gossip); best effort.</summary>
    public async Task SendAsync<TBody>(SiloAddress silo, MessageHeader header, TBody body) where TBody : IFrameBody
    {
        var connection = await GetConnectionAsync(silo);
        if (header.ExpiresAtUnixMs == 0)
        {
            header.ExpiresAtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)OneWayTimeToLive.TotalMilliseconds;
        }
        if (!connection.Send(header, body))
        {
            throw new SiloUnavailableException($"Silo {silo} is unavailable; the message was not sent.", callMayHaveRun: false);
        }
    }

    /// <summary>Closes the connection to <paramref name="silo"/>, failing its calls in flight with <see cref="SiloUnavailableException"/> (used when the silo is declared dead).</summary>
    public void BreakConnection(SiloAddress silo, string reason)
    {
        if (_connections.TryRemove(silo, out var task) && task.IsCompletedSuccessfully)
        {
            task.Result.Abort(reason);
        }
    }

    /// <summary>Closes every connection at once.</summary>
    public void Abort()
    {
        _stopping.Cancel();
        foreach (var silo in _connections.Keys) BreakConnection(silo, "connector stopped");
    }

    private async Task ScanTimeoutsAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                var now = Environment.TickCount64;
                foreach (var task in _connections.Values)
                {
                    if (task.IsCompletedSuccessfully) task.Result.ExpireOverdueCalls(now);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Abort();
        await _timeoutScan;
    }
}
