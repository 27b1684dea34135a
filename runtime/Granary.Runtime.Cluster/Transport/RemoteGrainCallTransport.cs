using System.Buffers;
using Granary.Runtime.Cluster.Diagnostics;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Invocation;
using Granary.Runtime.Serialization;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>
/// Carries grain calls to one remote silo: serializes the request (context, then arguments) into a frame, and
/// completes it from the response. A call the receiver did not run (rejected, or the connection could not be opened)
/// is re-routed through <see cref="IRejectedCallRouter"/>, at most <see cref="MaxReroutes"/> times.
/// </summary>
public sealed class RemoteGrainCallTransport(SiloAddress silo, SiloConnector connector, IRejectedCallRouter rerouter, TimeSpan defaultTimeout,
    ClusterInstruments instruments, Func<IGrainCallInvoker?> referenceInvoker)
    : Granary.Runtime.Messaging.IGrainCallTransport
{
    private readonly IRejectedCallRouter rerouter = rerouter;
    private readonly ClusterInstruments instruments = instruments;
    private readonly Func<IGrainCallInvoker?> referenceInvoker = referenceInvoker;

    /// <summary>How many times a call that was not run is re-routed before failing (with growing pauses, see the router).</summary>
    public const int MaxReroutes = 20;

    /// <summary>Pending calls are failed with <see cref="TimeoutException"/> by the connector's scan, so no per-call timer is needed.</summary>
    public bool AppliesResponseTimeout => true;

    /// <summary>The silo this transport sends to.</summary>
    public SiloAddress Silo { get; } = silo;

    /// <inheritdoc/>
    public ValueTask<TResult> InvokeAsync<TResult>(GrainId target, GrainRequest<TResult> request)
    {
        Send(target, request, 0);
        return request.AsValueTask();
    }

    /// <summary>Sends <paramref name="request"/> (whose previous attempts were not run <paramref name="attempt"/> times); its outcome completes the request.</summary>
    internal void Send<TResult>(GrainId target, GrainRequest<TResult> request, int attempt)
    {
        var method = request.Method;
        var header = new MessageHeader
        {
            Kind = MessageKind.Request,
            Flags = FlagsOf(method),
            InterfaceId = method.InterfaceId,
            MethodId = method.MethodId,
            Target = target,
        };
        var call = new GrainCall<TResult>(this, target, request, attempt);
        instruments.MessagesSent.Add(1);
        var timeout = method.ResponseTimeout ?? defaultTimeout;
        var connecting = connector.GetConnectionAsync(Silo);
        if (connecting.IsCompletedSuccessfully)
        {
            connecting.Result.Start(header, new RequestBody(request), timeout, call);
            return;
        }
        _ = SendWhenConnectedAsync(connecting, header, request, timeout, call);
    }

    private static async Task SendWhenConnectedAsync<TResult>(ValueTask<OutboundConnection> connecting, MessageHeader header, GrainRequest<TResult> request,
        TimeSpan timeout, GrainCall<TResult> call)
    {
        OutboundConnection connection;
        try
        {
            connection = await connecting;
        }
        catch (Exception e)
        {
            call.OnFailure(e);
            return;
        }
        connection.Start(header, new RequestBody(request), timeout, call);
    }

    /// <summary>Completes a grain request from its response, or routes it again when the silo did not run it.</summary>
    private sealed class GrainCall<TResult>(RemoteGrainCallTransport transport, GrainId target, GrainRequest<TResult> request, int attempt) : ResponseHandler
    {
        public override void OnResponse(Message response)
        {
            switch (response.Header.Result)
            {
                case ResultKind.Success:
                    // Grain references in the result become proxies that call through this silo (or client).
                    request.CompleteFromResponse(response.Body.Span, transport.referenceInvoker());
                    break;
                case ResultKind.Rejection when attempt < MaxReroutes:
                    _ = transport.rerouter.RerouteAsync(target, request, attempt + 1, OutboundConnection.ReadText(response.Body.Span));
                    break;
                default:
                    transport.instruments.SiloUnavailable.Add(1);
                    request.Fail(new SiloUnavailableException(
                        $"Silo {transport.Silo} refused {request.Method} on grain {target}: {OutboundConnection.ReadText(response.Body.Span)}", callMayHaveRun: false));
                    break;
            }
        }

        public override void OnFailure(Exception exception)
        {
            if (exception is SiloUnavailableException { CallMayHaveRun: false } && attempt < MaxReroutes)
            {
                // Never sent: safe to route again once the view has caught up.
                _ = transport.rerouter.RerouteAsync(target, request, attempt + 1, exception.Message);
                return;
            }
            transport.instruments.RecordFailure(exception);
            request.Fail(exception);
        }

        public override string Describe() => $"{request.Method} on grain {target}";
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
        instruments.MessagesSent.Add(1);
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
