using Granary.Grains.Online;
using Granary.Online;
using Granary.Registry;
using Orleans.Runtime;

namespace Granary.Grains.Historical;

/// <summary>What kind of error stopped a job: decides how callers answer it (a status code, an exit code), not only what they print.</summary>
[GenerateSerializer, Alias("granary.JobErrorKind")]
public enum JobErrorKind
{
    /// <summary>A fault of the server (a bug, a failed disk, an engine crash): not the caller's doing.</summary>
    Internal,
    /// <summary>Bad input: a malformed or missing entity file, an unknown column, a bad timestamp; the message says what to fix.</summary>
    InvalidArgument,
    /// <summary>The request names something the registry does not hold.</summary>
    NotFound,
    /// <summary>The request conflicts with work in progress.</summary>
    Conflict,
    /// <summary>A store or a silo could not be reached; retrying later may succeed.</summary>
    Unavailable,
}

/// <summary>The error a job ended with, kept so it can be answered like the same error thrown by a direct call.</summary>
/// <param name="Kind">How to answer it.</param>
/// <param name="Class">The exception's type name (e.g. <c>HistoricalRetrievalException</c>).</param>
/// <param name="Message">What was wrong.</param>
/// <param name="Hint">What to do, when the error says.</param>
[GenerateSerializer, Immutable, Alias("granary.JobError")]
public sealed record JobError([property: Id(0)] JobErrorKind Kind, [property: Id(1)] string Class, [property: Id(2)] string Message, [property: Id(3)] string? Hint)
{
    /// <summary>The kind of <paramref name="error"/>: the one table the gateway's REST and gRPC answers and the job grains share.</summary>
    public static JobErrorKind KindOf(Exception error) => error switch
    {
        RegistryNotFoundException => JobErrorKind.NotFound,
        MaterializationException => JobErrorKind.Conflict,
        // Silo gone, connection refused, message rejected, call timed out, store down: the cluster, not the request, is at fault.
        OnlineStoreUnavailableException or OrleansException or TimeoutException => JobErrorKind.Unavailable,
        // Every other Granary error is a user error by contract (see GranaryException).
        GranaryException => JobErrorKind.InvalidArgument,
        _ => JobErrorKind.Internal,
    };

    /// <summary>The job error for <paramref name="error"/>.</summary>
    public static JobError From(Exception error) => new(KindOf(error), error.GetType().Name, error.Message, (error as GranaryException)?.Hint);
}
