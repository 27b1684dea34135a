using Granary.Gateway.Limits;
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
/// <param name="message">What is missing, and what is known.</param>
/// <param name="hint">What to do, when known.</param>
/// <param name="feastClass">The class of <c>feast.errors</c> Feast raises for the same miss (e.g. <c>FeatureViewNotFoundException</c>).</param>
public sealed class GatewayNotFoundException(string message, string? hint = null, string feastClass = FeastErrors.ObjectNotFound) : GranaryException(message, hint)
{
    /// <summary>The class of <c>feast.errors</c> a Feast client turns this answer into.</summary>
    public string FeastClass { get; } = feastClass;
}

/// <summary>A request without valid credentials (401 / UNAUTHENTICATED): says what was missing or wrong, never echoes the token.</summary>
public sealed class GatewayUnauthenticatedException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>An action no permission grants the caller (403 / PERMISSION_DENIED), naming the action and the object.</summary>
public sealed class GatewayForbiddenException(string message, string? hint = null) : GranaryException(message, hint);

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
    /// <summary>The class of <c>feast.errors</c> a Feast client raises for this answer (<see cref="FeastErrors"/>).</summary>
    public string FeastClass { get; init; } = FeastErrors.Base;

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

    /// <summary>
    /// Feast's error body, as its feature server sends a <c>FeastError</c> (feast 0.66 <c>feature_server.py</c> 1070-1079,
    /// <c>errors.py</c> 38-51): a JSON string holding <c>{"module": "feast.errors", "class": ..., "message": ...}</c>, which
    /// Feast's REST client turns back into that exception (<c>rest_error_handler.py</c> 101, <c>errors.py</c> 54-69).
    /// The hint, when known, follows the message. The status is Feast's for the class (422 for an unknown push source).
    /// </summary>
    public async Task WriteFeastAsync(HttpResponse response)
    {
        response.StatusCode = FeastClass == FeastErrors.PushSourceNotFound ? StatusCodes.Status422UnprocessableEntity : HttpStatus;
        response.ContentType = "application/json";
        await response.WriteAsync(FeastErrors.Body(FeastClass, Hint is null ? Message : $"{Message} (hint: {Hint})"));
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
        var answer = Answer(error);
        return error switch
        {
            GatewayNotFoundException missing => answer with { FeastClass = missing.FeastClass },
            _ when answer.HttpStatus == StatusCodes.Status404NotFound => answer with { FeastClass = FeastErrors.ObjectNotFound },
            _ when answer.HttpStatus == StatusCodes.Status403Forbidden => answer with { FeastClass = FeastErrors.Permission },
            _ => answer,
        };
    }

    private static GatewayError Answer(Exception error)
    {
        var hint = (error as GranaryException)?.Hint;
        var name = error.GetType().Name;
        return error switch
        {
            GatewayRequestException or OnlineRetrievalException or InvalidEntityKeyException or OnlineRowSchemaException or HistoricalRetrievalException
                => new(StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, name, error.Message, hint),
            // Well-formed rows whose values a data rule refuses: Unprocessable Content, as a producer must change the rows.
            Granary.Quality.DataRuleViolationException
                => new(StatusCodes.Status422UnprocessableEntity, StatusCode.InvalidArgument, name, error.Message, hint),
            GatewayLimitException
                => new(StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, name, error.Message, hint),
            GatewayNotFoundException
                => new(StatusCodes.Status404NotFound, StatusCode.NotFound, name, error.Message, hint),
            GatewayUnauthenticatedException
                => new(StatusCodes.Status401Unauthorized, StatusCode.Unauthenticated, name, error.Message, hint),
            GatewayForbiddenException
                => new(StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, name, error.Message, hint),
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

/// <summary>
/// Feast's error classes (module <c>feast.errors</c>, feast 0.66 <c>errors.py</c>) the gateway answers with, and their
/// body. Each name is a class Feast's client can import, so <c>from_error_detail</c> rebuilds it.
/// </summary>
public static class FeastErrors
{
    /// <summary><c>FeastError</c>, the base class: errors with no closer Feast class.</summary>
    public const string Base = "FeastError";

    /// <summary><c>FeastObjectNotFoundException</c> (404): a missing object of no more specific kind.</summary>
    public const string ObjectNotFound = "FeastObjectNotFoundException";

    /// <summary><c>FeatureViewNotFoundException</c> (404).</summary>
    public const string FeatureViewNotFound = "FeatureViewNotFoundException";

    /// <summary><c>FeatureServiceNotFoundException</c> (404).</summary>
    public const string FeatureServiceNotFound = "FeatureServiceNotFoundException";

    /// <summary><c>PushSourceNotFoundException</c> (422 in Feast, errors.py 510-515).</summary>
    public const string PushSourceNotFound = "PushSourceNotFoundException";

    /// <summary><c>FeastPermissionError</c> (403).</summary>
    public const string Permission = "FeastPermissionError";

    /// <summary>
    /// The body bytes Feast's server writes for an error: FastAPI's compact JSON encoding of the string Python's
    /// <c>json.dumps</c> makes of the error (its ", " and ": " separators, non-ASCII as <c>\uXXXX</c>).
    /// </summary>
    public static string Body(string feastClass, string message)
    {
        var inner = $"{{\"module\": \"feast.errors\", \"class\": {PythonString(feastClass)}, \"message\": {PythonString(message)}}}";
        // The outer encoding: inner is ASCII with no control characters, so only quotes and backslashes need escaping.
        return "\"" + inner.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    // Python's json.dumps of a str with ensure_ascii (its default).
    private static string PythonString(string text)
    {
        var b = new System.Text.StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                case '\b': b.Append("\\b"); break;
                case '\f': b.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) b.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        return b.Append('"').ToString();
    }
}
