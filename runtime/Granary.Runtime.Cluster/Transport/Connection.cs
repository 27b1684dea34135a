using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>
/// One TCP connection carrying frames. Senders append frames to a buffer under a short lock; a single send loop
/// swaps buffers and writes each batch with one socket call, so concurrent callers share syscalls.
/// A single receive loop parses frames and hands each to <see cref="OnMessage"/>.
/// </summary>
public abstract class Connection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Lock _writeLock = new();
    private FrameBuffer _filling = new();
    private FrameBuffer _sending = new();
    private bool _sendScheduled;
    private readonly SemaphoreSlim _sendSignal = new(0, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closeStarted;

    /// <summary>Wraps a connected socket; call <see cref="Start"/> to run the loops.</summary>
    protected Connection(Socket socket, ILogger logger)
    {
        _socket = socket;
        _socket.NoDelay = true;
        Logger = logger;
    }

    /// <summary>Logger of the owning component.</summary>
    protected ILogger Logger { get; }

    /// <summary>Completes when the connection is closed, whatever the cause.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Whether the connection has been closed or is closing.</summary>
    public bool IsClosed => Volatile.Read(ref _closeStarted) != 0;

    /// <summary>The reason the connection closed, once it has.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Starts the send and receive loops.</summary>
    public void Start()
    {
        _ = Task.Run(SendLoopAsync);
        _ = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Queues one frame; false when the connection is closed.</summary>
    public bool Send<TBody>(in MessageHeader header, TBody body) where TBody : IFrameBody
    {
        bool signal;
        lock (_writeLock)
        {
            if (IsClosed) return false;
            FrameCodec.Write(_filling, header, body);
            signal = !_sendScheduled;
            _sendScheduled = true;
        }
        if (signal) _sendSignal.Release();
        return true;
    }

    /// <summary>Handles one received frame on the receive loop; must not block.</summary>
    protected abstract void OnMessage(Message message);

    /// <summary>Called once when the connection closes (after in-flight state must be failed).</summary>
    protected virtual void OnClosed(string reason)
    {
    }

    /// <summary>Closes the socket at once (no flush): what a crash looks like to the peer.</summary>
    public void Abort(string reason)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) != 0) return;
        CloseReason = reason;
        _closing.Cancel();
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
        try { OnClosed(reason); }
        finally { _closed.TrySetResult(); }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Abort("disposed");
        return ValueTask.CompletedTask;
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                await _sendSignal.WaitAsync(_closing.Token);
                lock (_writeLock)
                {
                    (_filling, _sending) = (_sending, _filling);
                    _sendScheduled = false;
                }
                var pending = _sending.WrittenMemory;
                while (!pending.IsEmpty)
                {
                    var sent = await _socket.SendAsync(pending, SocketFlags.None, _closing.Token);
                    pending = pending[sent..];
                }
                _sending.Reset();
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            Abort($"send failed: {e.Message}");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var reader = PipeReader.Create(new NetworkStream(_socket, ownsSocket: false), new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_closing.Token);
                var buffer = result.Buffer;
                while (FrameCodec.TryRead(ref buffer, out var message))
                {
                    OnMessage(message);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Abort("closed by the peer");
                    return;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (InvalidDataException e)
        {
            Logger.LogWarning("Closing connection: malformed frame: {Reason}", e.Message);
            Abort($"malformed frame: {e.Message}");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            Abort($"receive failed: {e.Message}");
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }
}
