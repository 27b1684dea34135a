using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Granary.Runtime.Cluster.Membership;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>Accepts TCP connections from silos and clients and runs an <see cref="InboundConnection"/> for each.</summary>
public sealed class TransportListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IIncomingMessageHandler _handler;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<InboundConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Binds <paramref name="endpoint"/> (port 0 picks a free port) for cluster <paramref name="clusterId"/>.</summary>
    public TransportListener(IPEndPoint endpoint, string clusterId, IIncomingMessageHandler handler, ILogger logger)
    {
        ClusterId = clusterId;
        _handler = handler;
        _logger = logger;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(endpoint);
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new InvalidOperationException($"Cannot listen on {endpoint}: {e.Message}. Choose another silo port.", e);
        }
        _socket.Listen(512);
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>The bound endpoint (with the actual port).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The cluster this listener accepts connections for.</summary>
    public string ClusterId { get; }

    /// <summary>The silo identity served here; connections naming another generation are refused.</summary>
    public SiloAddress? LocalSilo { get; set; }

    /// <summary>Whether pings are answered (false once the silo stops, so peers' probes fail).</summary>
    public bool AnswersPings { get; set; } = true;

    /// <summary>Starts accepting connections.</summary>
    public void Start() => _ = Task.Run(AcceptLoopAsync);

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var connection = new InboundConnection(accepted, this, _handler, _logger);
            _connections[connection] = 0;
            connection.Start();
        }
    }

    internal void Forget(InboundConnection connection) => _connections.TryRemove(connection, out _);

    /// <summary>Stops accepting and closes every inbound connection at once.</summary>
    public void Abort()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        _socket.Dispose();
        foreach (var connection in _connections.Keys) connection.Abort("listener stopped");
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Abort();
        return ValueTask.CompletedTask;
    }
}
