using System.Text.Json;
using Granary.Grains.Historical;
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

/// <summary>
/// A run the gateway started that ended in failure, answered by the kind of the run's own error: bad input 400 /
/// INVALID_ARGUMENT, unknown names 404 / NOT_FOUND, an unreachable store 503 / UNAVAILABLE, a fault 500 / INTERNAL.
/// </summary>
public sealed class GatewayJobFailedException : GranaryException
{
    /// <summary>A failure of unknown kind (answered as INTERNAL).</summary>
    public GatewayJobFailedException(string message) : this(message, new JobError(JobErrorKind.Internal, nameof(GatewayJobFailedException), message, null)) { }

    /// <summary>A failure with the job's own error: <paramref name="message"/> says which job, <paramref name="failure"/> what went wrong.</summary>
    public GatewayJobFailedException(string message, JobError failure) : base(message, failure.Hint)
    {
        Failure = failure;
    }

    /// <summary>The job's error, its kind and class included.</summary>
    public JobError Failure { get; }
}

/// <summary>How one error is answered over REST and gRPC.</summary>
/// <param name="HttpStatus">The HTTP status.</param>
/// <param name="GrpcStatus">The gRPC status code.</param>
/// <param name="Class">The error's class name (Feast's error body carries it).</param>
/// <param name="Message">What was wrong.</param>
/// <param name="Hint">What to do, when known.</param>
/// <remarks>
/// Message and hint are cut to <see cref="MaxMessageLength"/> characters each: they echo user input, and gRPC carries them
/// in the <c>grpc-message</c> trailer, where a header block over the client's limit (64 KiB in .NET's HttpClient) fails
/// the whole HTTP/2 connection instead of the one call.
/// </remarks>
public sealed record GatewayError(int HttpStatus, StatusCode GrpcStatus, string Class, string Message, string? Hint)
{
    /// <summary>The longest message (and hint) an error carries, in characters.</summary>
    public const int MaxMessageLength = 2048;

    private readonly string _message = GatewayErrors.Bound(Message, MaxMessageLength);
    private readonly string? _hint = Hint is null ? null : GatewayErrors.Bound(Hint, MaxMessageLength);

    /// <summary>What was wrong (at most <see cref="MaxMessageLength"/> characters).</summary>
    public string Message { get => _message; init => _message = GatewayErrors.Bound(value, MaxMessageLength); }

    /// <summary>What to do, when known (at most <see cref="MaxMessageLength"/> characters).</summary>
    public string? Hint { get => _hint; init => _hint = value is null ? null : GatewayErrors.Bound(value, MaxMessageLength); }

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
    /// <summary>The longest user value an error message quotes whole; longer ones are cut (<see cref="Echo"/>).</summary>
    public const int MaxEchoLength = 200;

    /// <summary><paramref name="value"/> as an error message quotes it: cut to <see cref="MaxEchoLength"/> characters, with how long it was.</summary>
    public static string Echo(string? value) => Bound(value ?? "", MaxEchoLength);

    /// <summary><paramref name="text"/> cut to at most <paramref name="max"/> characters, ending in a marker that gives its full length.</summary>
    public static string Bound(string text, int max)
    {
        if (text.Length <= max) return text;
        var marker = $"...[{text.Length} characters]";
        var keep = Math.Max(0, max - marker.Length);
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1])) keep--; // never split a surrogate pair
        return string.Concat(text.AsSpan(0, keep), marker);
    }

    /// <summary>The answer for <paramref name="error"/>; unknown exceptions are 500 with a generic message (the caller logs them).</summary>
    public static GatewayError From(Exception error)
    {
        var hint = (error as GranaryException)?.Hint;
        var name = error.GetType().Name;
        return error switch
        {
            GatewayRequestException or OnlineRetrievalException or InvalidEntityKeyException or OnlineRowSchemaException or HistoricalRetrievalException
                => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, name, error.Message, hint),
            GatewayNotFoundException
                => new(StatusCodes.Status404NotFound, StatusCode.NotFound, name, error.Message, hint),
            GatewayConflictException
                => new(StatusCodes.Status409Conflict, StatusCode.FailedPrecondition, name, error.Message, hint),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                => new(StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "RequestTooLarge", error.Message,
                       "send fewer entity rows per request, or raise Granary:Gateway:MaxRequestBodyBytes"),
            BadHttpRequestException bad
                => new(bad.StatusCode, StatusCode.InvalidArgument, "BadRequest", error.Message, null),
            JsonException json
                => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "MalformedJson",
                       $"the request body is not valid JSON: {json.Message}", "send a JSON object as Feast's feature server documents it"),
            // A job's error travels as its kind and text (the job ran on a silo, maybe long after the call started it).
            GatewayJobFailedException job
                => Of(job.Failure.Kind, job.Failure.Class, error.Message, job.Failure.Hint),
            OnlineStoreUnavailableException
                => new(StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, name, error.Message, hint),
            OrleansException or TimeoutException
                => new(StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, name, $"the feature store cluster is unavailable: {error.Message}",
                       "retry later; check that the silos are running and reachable from the gateway"),
            GranaryException
                => Of(JobError.KindOf(error), name, error.Message, hint),
            _ => new(StatusCodes.Status500InternalServerError, StatusCode.Internal, "InternalError",
                     "the gateway failed on this request; the error is in the gateway's log", null),
        };
    }

    /// <summary>The answer for an error of <paramref name="kind"/> (the table the job grains classify by, <see cref="JobError.KindOf"/>).</summary>
    private static GatewayError Of(JobErrorKind kind, string name, string message, string? hint) => kind switch
    {
        JobErrorKind.InvalidArgument => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, name, message, hint),
        JobErrorKind.NotFound => new(StatusCodes.Status404NotFound, StatusCode.NotFound, name, message, hint),
        JobErrorKind.Conflict => new(StatusCodes.Status409Conflict, StatusCode.FailedPrecondition, name, message, hint),
        JobErrorKind.Unavailable => new(StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, name, message,
                                        hint ?? "retry later; check that the silos and the stores are running"),
        _ => new(StatusCodes.Status500InternalServerError, StatusCode.Internal, name, message, hint),
    };
}
