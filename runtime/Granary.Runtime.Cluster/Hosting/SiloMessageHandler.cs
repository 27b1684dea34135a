using System.Buffers;
using Granary.Runtime.Cluster.Diagnostics;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Transport;
using Granary.Runtime.Invocation;
using Granary.Runtime.Serialization;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Hosting;

/// <summary>
/// A silo's handling of incoming grain requests: drops expired ones, forwards those for grains another silo owns
/// (at most <see cref="MaxForwardCount"/> hops), and runs the rest on the local catalog, answering with the
/// serialized result or exception.
/// </summary>
internal sealed partial class SiloMessageHandler(
    Func<SiloAddress> self,
    Func<ClusterView> view,
    Func<string, bool> runsLocallyOnly,
    SiloConnector connector,
    ILocalGrainInvoker local,
    IGrainCallInvoker referenceInvoker,
    Action onMembershipChanged,
    ClusterInstruments instruments,
    TimeProvider time,
    ILogger logger) : IIncomingMessageHandler
{
    /// <summary>How often a request may be forwarded before the receiving silo runs it regardless (Orleans' MaxForwardCount).</summary>
    public const int MaxForwardCount = 2;

    private volatile bool _accepting = true;

    /// <summary>Stops running requests: later ones are rejected so callers re-route them.</summary>
    public void StopAccepting() => _accepting = false;

    public void OnMembershipChanged() => onMembershipChanged();

    public void OnRequest(Message request, InboundConnection connection)
    {
        ref readonly var header = ref request.Header;
        instruments.MessagesReceived.Add(1);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (request.IsExpired(now))
        {
            instruments.RecordExpired();
            LogExpired(header.Target, header.MethodId);
            return;
        }
        var me = self();
        if (!_accepting)
        {
            Reject(request, connection, $"silo {me} is stopping");
            return;
        }
        var target = header.Target;
        if (!runsLocallyOnly(target.Type) && (header.Flags & MessageFlags.NoForward) == 0 && header.ForwardCount < MaxForwardCount)
        {
            var owner = view().Ring.OwnerOf(target);
            if (owner is not null && owner != me)
            {
                instruments.MessagesForwarded.Add(1);
                instruments.MessagesSent.Add(1);
                _ = ForwardAsync(request, connection, owner);
                return;
            }
        }
        RunLocally(request, connection);
    }

    private static void Reject(Message request, InboundConnection connection, string reason)
    {
        if (request.Header.Kind == MessageKind.Request)
        {
            connection.SendResponse(request.Header.CorrelationId, ResultKind.Rejection, new TextBody(reason));
        }
    }

    private async Task ForwardAsync(Message request, InboundConnection connection, SiloAddress owner)
    {
        var header = request.Header;
        header.ForwardCount++;
        if (header.ForwardCount >= MaxForwardCount) header.Flags |= MessageFlags.NoForward;
        try
        {
            if (header.Kind == MessageKind.OneWayRequest)
            {
                await connector.SendAsync(owner, header, new BytesBody(request.Body));
                return;
            }
            var remaining = TimeSpan.FromMilliseconds(Math.Max(1, header.ExpiresAtUnixMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            var reply = await connector.CallAsync(owner, header, new BytesBody(request.Body), remaining, $"forwarded call to grain {header.Target}");
            connection.SendResponse(request.Header.CorrelationId, reply.Header.Result, new BytesBody(reply.Body));
        }
        catch (SiloUnavailableException e) when (!e.CallMayHaveRun)
        {
            Reject(request, connection, $"owner {owner} of grain {header.Target} is unreachable: {e.Message}");
        }
        catch (Exception e) when (e is SiloUnavailableException or TimeoutException or ObjectDisposedException)
        {
            if (request.Header.Kind == MessageKind.Request)
            {
                var buffer = new ArrayBufferWriter<byte>(128);
                GrainRequest.WriteErrorResponse(buffer, e);
                connection.SendResponse(request.Header.CorrelationId, ResultKind.Success, new BytesBody(buffer.WrittenMemory));
            }
        }
    }

    private void RunLocally(Message message, InboundConnection connection)
    {
        GrainRequest request;
        try
        {
            request = GrainInterfaceRegistry.CreateRequest(message.Header.InterfaceId, message.Header.MethodId);
            // Grain references among the arguments become proxies that call through this silo.
            var reader = new GrainReader(message.Body.Span) { Invoker = referenceInvoker };
            request.Context = RequestContextCodec.Read(ref reader);
            request.ReadArguments(ref reader);
            if (message.Header.ExpiresAtUnixMs != 0)
            {
                // The catalog drops a request still queued at its expiry (the caller has given up by then).
                var remainingMs = message.Header.ExpiresAtUnixMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                request.ExpiresAtTimestamp = time.GetTimestamp() + remainingMs * time.TimestampFrequency / 1000;
            }
        }
        catch (Exception e)
        {
            if (message.Header.Kind == MessageKind.Request)
            {
                var buffer = new ArrayBufferWriter<byte>(128);
                GrainRequest.WriteErrorResponse(buffer, e);
                connection.SendResponse(message.Header.CorrelationId, ResultKind.Success, new BytesBody(buffer.WrittenMemory));
            }
            return;
        }
        _ = RunAsync(request, message, connection);
    }

    private async Task RunAsync(GrainRequest request, Message message, InboundConnection connection)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        try
        {
            await request.InvokeAndWriteResponseAsync(local, message.Header.Target, buffer);
        }
        catch (Exception e)
        {
            // Writing the result failed (e.g. a result type the serializer cannot handle): answer with the error.
            buffer = new ArrayBufferWriter<byte>(128);
            GrainRequest.WriteErrorResponse(buffer, new GrainSerializationException($"Could not send the result of {request.Method} on grain {message.Header.Target}: {e.Message}", e));
        }
        if (message.Header.Kind == MessageKind.Request)
        {
            connection.SendResponse(message.Header.CorrelationId, ResultKind.Success, new BytesBody(buffer.WrittenMemory));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped an expired request to grain {Target} (method {MethodId}).")]
    private partial void LogExpired(GrainId target, int methodId);
}
