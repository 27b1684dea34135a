using System.Net.Sockets;
using Granary.Runtime.Cluster.Membership;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>What a silo does with the frames its inbound connections receive.</summary>
public interface IIncomingMessageHandler
{
    /// <summary>
    /// Handles a grain request or one-way request. For <see cref="MessageKind.Request"/> the handler must eventually
    /// call <see cref="InboundConnection.SendResponse{TBody}"/> with the request's correlation id. Must not block.
    /// </summary>
    void OnRequest(Message request, InboundConnection connection);

    /// <summary>A peer changed the membership table: re-read it soon.</summary>
    void OnMembershipChanged();
}

/// <summary>A connection a silo accepted: it receives requests and sends responses.</summary>
public sealed class InboundConnection : Connection
{
    private readonly TransportListener _listener;
    private readonly IIncomingMessageHandler _handler;
    private bool _helloDone;

    internal InboundConnection(Socket socket, TransportListener listener, IIncomingMessageHandler handler, ILogger logger)
        : base(socket, logger)
    {
        _listener = listener;
        _handler = handler;
    }

    /// <summary>Sends the response to request <paramref name="correlationId"/>; ignored when the connection closed.</summary>
    public void SendResponse<TBody>(long correlationId, ResultKind result, TBody body) where TBody : IFrameBody
    {
        var header = new MessageHeader { Kind = MessageKind.Response, Result = result, CorrelationId = correlationId };
        Send(header, body);
    }

    /// <inheritdoc/>
    protected override void OnMessage(Message message)
    {
        var header = message.Header;
        if (!_helloDone)
        {
            if (header.Kind != MessageKind.Hello)
            {
                Abort($"first frame was {header.Kind}, expected Hello");
                return;
            }
            var refusal = CheckHello(message.Body.Span);
            if (refusal is not null)
            {
                SendResponse(header.CorrelationId, ResultKind.Rejection, new TextBody(refusal));
                return;
            }
            _helloDone = true;
            SendResponse(header.CorrelationId, ResultKind.Success, BytesBody.Empty);
            return;
        }
        switch (header.Kind)
        {
            case MessageKind.Ping:
                if (_listener.AnswersPings) SendResponse(header.CorrelationId, ResultKind.Success, BytesBody.Empty);
                break;
            case MessageKind.MembershipChanged:
                _handler.OnMembershipChanged();
                break;
            case MessageKind.Request:
            case MessageKind.OneWayRequest:
                _handler.OnRequest(message, this);
                break;
            default:
                Logger.LogWarning("Ignoring unexpected {Kind} frame on an inbound connection.", header.Kind);
                break;
        }
    }

    private string? CheckHello(ReadOnlySpan<byte> body)
    {
        var clusterId = FrameCodec.ReadString(ref body);
        var target = FrameCodec.ReadString(ref body);
        if (clusterId != _listener.ClusterId)
        {
            return $"this silo belongs to cluster '{_listener.ClusterId}', not '{clusterId}'";
        }
        var local = _listener.LocalSilo;
        if (target.Length > 0 && local is not null && SiloAddress.Parse(target) != local)
        {
            return $"this endpoint is now silo {local}, not {target} (that silo generation is gone)";
        }
        return null;
    }

    /// <inheritdoc/>
    protected override void OnClosed(string reason) => _listener.Forget(this);
}

/// <summary>A frame body holding one length-prefixed string (rejection reasons).</summary>
public readonly struct TextBody(string text) : IFrameBody
{
    /// <inheritdoc/>
    public void WriteTo(System.Buffers.IBufferWriter<byte> writer) => FrameCodec.WriteString(writer, text);
}
