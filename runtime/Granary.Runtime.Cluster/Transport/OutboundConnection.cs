using System.Collections.Concurrent;
using System.Net.Sockets;
using Granary.Runtime.Cluster.Membership;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>A connection this process opened to a silo: it sends requests and matches responses by correlation id.</summary>
public sealed class OutboundConnection : Connection
{
    private static long s_nextCorrelationId;
    private readonly ConcurrentDictionary<long, ResponseHandler> _pending = new();

    private OutboundConnection(Socket socket, SiloAddress target, ILogger logger) : base(socket, logger) => Target = target;

    /// <summary>The silo at the other end.</summary>
    public SiloAddress Target { get; }

    /// <summary>Calls awaiting a response.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Connects to <paramref name="target"/> and completes the hello exchange (cluster id and generation must match).</summary>
    public static async Task<OutboundConnection> ConnectAsync(SiloAddress target, ClusterOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(target.Endpoint, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            var why = e is OperationCanceledException ? $"no answer within {options.ConnectTimeout}" : e.Message;
            throw new SiloUnavailableException($"Could not connect to silo {target}: {why}.", callMayHaveRun: false, e);
        }
        var connection = new OutboundConnection(socket, target, logger);
        connection.Start();
        var hello = new MessageHeader { Kind = MessageKind.Hello };
        Message reply;
        try
        {
            reply = await connection.CallAsync(hello, new HelloBody(options.ClusterId, target), options.ConnectTimeout, "hello");
        }
        catch (Exception e) when (e is TimeoutException or SiloUnavailableException)
        {
            connection.Abort("hello failed");
            throw new SiloUnavailableException($"Silo {target} did not complete the connection hello: {e.Message}", callMayHaveRun: false, e);
        }
        if (reply.Header.Result != ResultKind.Success)
        {
            connection.Abort("hello rejected");
            var reason = ReadText(reply.Body.Span);
            throw new SiloUnavailableException($"Silo {target} refused the connection: {reason}", callMayHaveRun: false);
        }
        return connection;
    }

    /// <summary>
    /// Sends a request (or ping) and returns its response. The header's correlation id and expiry are set here.
    /// Fails with <see cref="TimeoutException"/> after <paramref name="timeout"/> and with <see cref="SiloUnavailableException"/>
    /// as soon as the connection breaks.
    /// </summary>
    public Task<Message> CallAsync<TBody>(MessageHeader header, TBody body, TimeSpan timeout, string description) where TBody : IFrameBody
    {
        var call = new PendingCall(description);
        Start(header, body, timeout, call);
        return call.Task;
    }

    /// <summary>
    /// Sends a request and hands its outcome to <paramref name="handler"/>: exactly one of
    /// <see cref="ResponseHandler.OnResponse"/> (on the receive loop; must not block) or <see cref="ResponseHandler.OnFailure"/>.
    /// </summary>
    public void Start<TBody>(MessageHeader header, TBody body, TimeSpan timeout, ResponseHandler handler) where TBody : IFrameBody
    {
        var id = Interlocked.Increment(ref s_nextCorrelationId);
        handler.Deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        handler.Timeout = timeout;
        header.CorrelationId = id;
        header.ExpiresAtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)timeout.TotalMilliseconds;
        _pending[id] = handler;
        bool sent;
        try
        {
            sent = Send(header, body);
        }
        catch (Exception e)
        {
            // The body could not be serialized (e.g. an unsupported request-context value): nothing was sent.
            _pending.TryRemove(id, out _);
            handler.OnFailure(e);
            return;
        }
        if (!sent)
        {
            _pending.TryRemove(id, out _);
            handler.OnFailure(new SiloUnavailableException(
                $"Silo {Target} is unavailable ({CloseReason ?? "connection closed"}); {handler.Describe()} was not sent.", callMayHaveRun: false));
            return;
        }
        // The connection may have closed between the check in Send and our registration; fail now rather than hang.
        if (IsClosed && _pending.TryRemove(id, out _))
        {
            handler.OnFailure(Unavailable(handler));
        }
    }

    /// <summary>Fails every call whose deadline passed with a <see cref="TimeoutException"/>; run periodically.</summary>
    public void ExpireOverdueCalls(long nowTicks)
    {
        foreach (var (id, call) in _pending)
        {
            if (call.Deadline <= nowTicks && _pending.TryRemove(id, out _))
            {
                call.OnFailure(new TimeoutException($"No response from silo {Target} within {call.Timeout} for {call.Describe()}; its outcome is unknown (a late response is dropped)."));
            }
        }
    }

    /// <inheritdoc/>
    protected override void OnMessage(Message message)
    {
        // A response after its call timed out finds no pending entry and is dropped.
        if (message.Header.Kind == MessageKind.Response && _pending.TryRemove(message.Header.CorrelationId, out var call))
        {
            call.OnResponse(message);
        }
    }

    /// <inheritdoc/>
    protected override void OnClosed(string reason)
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var call)) call.OnFailure(Unavailable(call));
        }
    }

    private SiloUnavailableException Unavailable(ResponseHandler call) =>
        new($"Silo {Target} became unavailable ({CloseReason ?? "connection closed"}) while {call.Describe()} was in flight; its outcome is unknown.");

    internal static string ReadText(ReadOnlySpan<byte> body) => body.IsEmpty ? "" : FrameCodec.ReadString(ref body);

    private sealed class PendingCall(string description) : ResponseHandler
    {
        private readonly TaskCompletionSource<Message> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task<Message> Task => _completion.Task;
        public override void OnResponse(Message response) => _completion.TrySetResult(response);
        public override void OnFailure(Exception exception) => _completion.TrySetException(exception);
        public override string Describe() => description;
    }

    private readonly struct HelloBody(string clusterId, SiloAddress target) : IFrameBody
    {
        public void WriteTo(System.Buffers.IBufferWriter<byte> writer)
        {
            FrameCodec.WriteString(writer, clusterId);
            FrameCodec.WriteString(writer, target.ToString());
        }
    }
}

/// <summary>Receives the outcome of one request sent with <see cref="OutboundConnection.Start{TBody}"/>.</summary>
public abstract class ResponseHandler
{
    internal long Deadline;
    internal TimeSpan Timeout;

    /// <summary>The response arrived (called on the connection's receive loop: do little, never block).</summary>
    public abstract void OnResponse(Message response);

    /// <summary>The call failed: timeout, broken connection, or not sent.</summary>
    public abstract void OnFailure(Exception exception);

    /// <summary>What the call was, for error messages (only called on failure, so it may allocate).</summary>
    public abstract string Describe();
}
