using System.Text.Json;
using Granary.Grains.Online;
using Granary.Offline;
using Granary.Online;
using Granary.Registry;
using Granary.Serving;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Orleans.Runtime;

namespace Granary.Gateway;

/// <summary>A request the gateway refuses as malformed: names the field, the value and what to send instead (400 / INVALID_ARGUMENT).</summary>
public sealed class GatewayRequestException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>A request naming something the registry does not hold (404 / NOT_FOUND).</summary>
public sealed class GatewayNotFoundException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>A request that conflicts with work in progress, e.g. another materialization window of the same view (409 / FAILED_PRECONDITION).</summary>
public sealed class GatewayConflictException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>A run the gateway started that ended in failure (500 / INTERNAL, with the run's own error).</summary>
public sealed class GatewayJobFailedException(string message) : GranaryException(message);

/// <summary>How one error is answered over REST and gRPC.</summary>
/// <param name="HttpStatus">The HTTP status.</param>
/// <param name="GrpcStatus">The gRPC status code.</param>
/// <param name="Class">The error's class name (Feast's error body carries it).</param>
/// <param name="Message">What was wrong.</param>
/// <param name="Hint">What to do, when known.</param>
public sealed record GatewayError(int HttpStatus, StatusCode GrpcStatus, string Class, string Message, string? Hint)
{
    /// <summary>The JSON body: Feast's <c>{"module","class","message"}</c>, plus Granary's <c>hint</c> and <c>status</c>.</summary>
    public async Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = HttpStatus;
        response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(response.Body, GatewayEndpoints.JsonOptions);
        json.WriteStartObject();
        json.WriteString("module", "granary");
        json.WriteString("class", Class);
        json.WriteString("message", Message);
        if (Hint is not null) json.WriteString("hint", Hint);
        json.WriteNumber("status", HttpStatus);
        json.WriteEndObject();
    }

    /// <summary>The gRPC form: status code and the message (with the hint after it).</summary>
    public RpcException ToRpcException() => new(new Status(GrpcStatus, Hint is null ? Message : $"{Message} (hint: {Hint})"));
}

/// <summary>Maps exceptions to <see cref="GatewayError"/>: one table for REST and gRPC, so both answer the same error the same way.</summary>
public static class GatewayErrors
{
    /// <summary>The answer for <paramref name="error"/>; unknown exceptions are 500 with a generic message (the caller logs them).</summary>
    public static GatewayError From(Exception error)
    {
        var hint = (error as GranaryException)?.Hint;
        var name = error.GetType().Name;
        return error switch
        {
            GatewayRequestException or OnlineRetrievalException or InvalidEntityKeyException or OnlineRowSchemaException or HistoricalRetrievalException
                => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, name, error.Message, hint),
            GatewayNotFoundException or RegistryNotFoundException
                => new(StatusCodes.Status404NotFound, StatusCode.NotFound, name, error.Message, hint),
            GatewayConflictException or MaterializationException
                => new(StatusCodes.Status409Conflict, StatusCode.FailedPrecondition, name, error.Message, hint),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                => new(StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "RequestTooLarge", error.Message,
                       "send fewer entity rows per request, or raise Granary:Gateway:MaxRequestBodyBytes"),
            BadHttpRequestException bad
                => new(bad.StatusCode, StatusCode.InvalidArgument, "BadRequest", error.Message, null),
            JsonException json
                => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "MalformedJson",
                       $"the request body is not valid JSON: {json.Message}", "send a JSON object as Feast's feature server documents it"),
            OnlineStoreUnavailableException
                => new(StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, name, error.Message, hint),
            // Silo gone, connection refused, message rejected, call timed out: the cluster, not the request, is at fault.
            OrleansException or TimeoutException
                => new(StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, name, $"the feature store cluster is unavailable: {error.Message}",
                       "retry later; check that the silos are running and reachable from the gateway"),
            GatewayJobFailedException
                => new(StatusCodes.Status500InternalServerError, StatusCode.Internal, name, error.Message, null),
            GranaryException
                => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, name, error.Message, hint),
            _ => new(StatusCodes.Status500InternalServerError, StatusCode.Internal, "InternalError",
                     "the gateway failed on this request; the error is in the gateway's log", null),
        };
    }
}
