using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Turns errors into gRPC statuses with the same table as REST (<see cref="GatewayErrors"/>); a call whose deadline passed
/// ends DEADLINE_EXCEEDED, one the client cancelled CANCELLED.
/// </summary>
public sealed partial class GatewayErrorInterceptor(ILogger<GatewayErrorInterceptor> logger) : Interceptor
{
    /// <inheritdoc/>
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    /// <inheritdoc/>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

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
}
