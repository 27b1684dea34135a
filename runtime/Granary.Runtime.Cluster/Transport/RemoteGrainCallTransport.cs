using System.Buffers;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Invocation;
using Granary.Runtime.Serialization;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>
/// Carries grain calls to one remote silo: serializes the request (context, then arguments) into a frame, and
/// completes it from the response. A call the receiver did not run (rejected, or the connection could not be opened)
/// is re-routed through <see cref="IRejectedCallRouter"/>, at most <see cref="MaxReroutes"/> times.
/// </summary>
public sealed class RemoteGrainCallTransport(SiloAddress silo, SiloConnector connector, IRejectedCallRouter rerouter, TimeSpan defaultTimeout)
    : Granary.Runtime.Messaging.IGrainCallTransport
{
    /// <summary>How many times a call that was not run is re-routed before failing (with growing pauses, see the router).</summary>
    public const int MaxReroutes = 20;

    /// <summary>The silo this transport sends to.</summary>
    public SiloAddress Silo { get; } = silo;

    /// <inheritdoc/>
    public ValueTask<TResult> InvokeAsync<TResult>(GrainId target, GrainRequest<TResult> request)
    {
        _ = SendAsync(target, request, 0);
        return request.AsValueTask();
    }

    /// <summary>Sends <paramref name="request"/> (whose previous attempts were rejected <paramref name="attempt"/> times).</summary>
    internal async Task SendAsync<TResult>(GrainId target, GrainRequest<TResult> request, int attempt)
    {
        var method = request.Method;
        var timeout = method.ResponseTimeout ?? defaultTimeout;
        var header = new MessageHeader
        {
            Kind = MessageKind.Request,
            Flags = FlagsOf(method),
            InterfaceId = method.InterfaceId,
            MethodId = method.MethodId,
            Target = target,
        };
        Message reply;
        try
        {
            var connection = await connector.GetConnectionAsync(Silo);
            reply = await connection.CallAsync(header, new RequestBody(request), timeout, $"{method} on grain {target}");
        }
        catch (SiloUnavailableException e) when (!e.CallMayHaveRun && attempt < MaxReroutes)
        {
            // Never sent: safe to route again once the view has caught up.
            await rerouter.RerouteAsync(target, request, attempt + 1, e.Message);
            return;
        }
        catch (Exception e)
        {
            request.Fail(e);
            return;
        }
        switch (reply.Header.Result)
        {
            case ResultKind.Success:
                request.CompleteFromResponse(reply.Body.Span);
                break;
            case ResultKind.Rejection when attempt < MaxReroutes:
                await rerouter.RerouteAsync(target, request, attempt + 1, OutboundConnection.ReadText(reply.Body.Span));
                break;
            default:
                request.Fail(new SiloUnavailableException(
                    $"Silo {Silo} refused {method} on grain {target}: {OutboundConnection.ReadText(reply.Body.Span)}", callMayHaveRun: false));
                break;
        }
    }

    /// <inheritdoc/>
    public void SendOneWay(GrainId target, GrainRequest request)
    {
        var method = request.Method;
        var header = new MessageHeader
        {
            Kind = MessageKind.OneWayRequest,
            Flags = FlagsOf(method),
            InterfaceId = method.InterfaceId,
            MethodId = method.MethodId,
            Target = target,
            ExpiresAtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)(method.ResponseTimeout ?? defaultTimeout).TotalMilliseconds,
        };
        var send = connector.GetConnectionAsync(Silo);
        if (send.IsCompletedSuccessfully)
        {
            send.Result.Send(header, new RequestBody(request));
            return;
        }
        _ = SendOneWayLaterAsync(send, header, request);
    }

    private static async Task SendOneWayLaterAsync(ValueTask<OutboundConnection> connecting, MessageHeader header, GrainRequest request)
    {
        try
        {
            var connection = await connecting;
            connection.Send(header, new RequestBody(request));
        }
        catch (SiloUnavailableException)
        {
            // One-way calls are best effort: no result, no error.
        }
    }

    internal static MessageFlags FlagsOf(GrainMethodDescriptor method)
    {
        var flags = MessageFlags.None;
        if (method.IsReadOnly) flags |= MessageFlags.ReadOnly;
        if (method.IsAlwaysInterleave) flags |= MessageFlags.AlwaysInterleave;
        return flags;
    }

    /// <summary>The request body: the request context, then the generated serialization of the arguments.</summary>
    internal readonly struct RequestBody(GrainRequest request) : IFrameBody
    {
        public void WriteTo(IBufferWriter<byte> writer)
        {
            var grainWriter = new GrainWriter(writer);
            RequestContextCodec.Write(grainWriter, request.Context);
            request.WriteArguments(grainWriter);
        }
    }
}

/// <summary>Routes a call again after a silo refused it without running it (it no longer owns the grain, or it is stopping).</summary>
public interface IRejectedCallRouter
{
    /// <summary>Refreshes the routing view and sends <paramref name="request"/> to the grain's current owner.</summary>
    Task RerouteAsync<TResult>(GrainId target, GrainRequest<TResult> request, int attempt, string reason);
}
