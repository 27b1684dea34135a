using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Turns errors into gRPC statuses with the same table as REST (<see cref="GatewayErrors"/>); a call whose deadline passed
/// ends DEADLINE_EXCEEDED, one the client cancelled CANCELLED. Unary calls also end DEADLINE_EXCEEDED when the gateway's
/// own limit (<see cref="GatewayOptions.RequestTimeout"/>) passes, whether or not the client gave a deadline; a call whose
/// answer is still not sent by then is reset, so no call waits for ever. Every status message is bounded
/// (<see cref="GatewayError.MaxMessageLength"/>).
/// </summary>
public sealed partial class GatewayErrorInterceptor(ILogger<GatewayErrorInterceptor> logger, IOptions<GatewayOptions> options) : Interceptor
{
    private readonly TimeSpan _limit = options.Value.RequestTimeout;

    /// <inheritdoc/>
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // Lives until the response is complete (disposed with the request), so it also covers writing the answer.
        var limit = new CancellationTokenSource(_limit);
        var http = context.GetHttpContext();
        http.Response.RegisterForDispose(limit);
        var answered = 0;
        limit.Token.Register(() =>
        {
            if (Volatile.Read(ref answered) == 0) return; // still in the handler: WaitAsync below ends the call DEADLINE_EXCEEDED
            LogResetAfterLimit(context.Method, _limit);
            http.Abort();
        });
        try
        {
            // The status goes out at the limit; the handler's work, bounded by the cluster's own call timeout, ends unobserved.
            var response = await continuation(request, context).WaitAsync(limit.Token);
            Volatile.Write(ref answered, 1);
            if (limit.IsCancellationRequested) http.Abort(); // the limit passed just as the handler returned
            return response;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"{context.Method}: the gateway's limit of {_limit.TotalSeconds:0.###} s per call passed before it answered; retry, or raise Granary:Gateway:RequestTimeout"));
        }
        catch (RpcException e)
        {
            throw Bounded(e);
        }
        catch (Exception e)
        {
            throw Translate(e, context);
        }
    }

    /// <inheritdoc/>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        // Streams (materialization progress, historical rows) run as long as their work; the client's deadline bounds them.
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (RpcException e)
        {
            throw Bounded(e);
        }
        catch (Exception e)
        {
            throw Translate(e, context);
        }
    }

    // The message travels in the grpc-message trailer: one over the client's header limit fails the whole connection.
    private static RpcException Bounded(RpcException e) => e.Status.Detail.Length <= GatewayError.MaxMessageLength
        ? e
        : new RpcException(new Status(e.StatusCode, GatewayErrors.Bound(e.Status.Detail, GatewayError.MaxMessageLength)), e.Trailers);

    private RpcException Translate(Exception e, ServerCallContext context)
    {
        if (e is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return context.Deadline <= DateTime.UtcNow
                ? new RpcException(new Status(StatusCode.DeadlineExceeded, $"{context.Method}: the call's deadline passed before the gateway answered"))
                : new RpcException(new Status(StatusCode.Cancelled, $"{context.Method}: cancelled by the client"));
        }
        var error = GatewayErrors.From(e);
        if (error.GrpcStatus == StatusCode.Internal && error.Class == "InternalError") LogFailure(e, context.Method);
        return error.ToRpcException();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed")]
    private partial void LogFailure(Exception error, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method}: the answer was not sent within the gateway's limit of {Limit}; the call is reset")]
    private partial void LogResetAfterLimit(string method, TimeSpan limit);
}
