using Grpc.Core;

namespace Granary.Client;

/// <summary>A call to the gateway failed: the gRPC status, the server's message, and what to do.</summary>
public sealed class GranaryClientException : Exception
{
    internal GranaryClientException(StatusCode status, string message, string hint, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = status;
        Hint = hint;
    }

    /// <summary>The gRPC status (UNAVAILABLE also when the breaker is open).</summary>
    public StatusCode StatusCode { get; }

    /// <summary>True when no call was made because the circuit breaker is open.</summary>
    public bool CircuitOpen { get; init; }

    /// <summary>What the caller can do about it.</summary>
    public string Hint { get; }

    /// <summary>True for statuses a later attempt may not meet (UNAVAILABLE, DEADLINE_EXCEEDED).</summary>
    public bool IsTransient => StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded;

    internal static GranaryClientException From(RpcException e, string call) => new(e.StatusCode, $"{call}: {e.StatusCode}: {e.Status.Detail}", e.StatusCode switch
    {
        StatusCode.Unavailable => "The gateway or the cluster behind it is unreachable; check the address and that `granary serve` (or granary-gateway) runs.",
        StatusCode.DeadlineExceeded => "The call ran past its deadline; pass a longer deadline or read fewer entity rows per call.",
        StatusCode.InvalidArgument => "Fix the request as the message says.",
        StatusCode.NotFound => "Check the names against the applied registry (`granary registry list`).",
        StatusCode.FailedPrecondition => "Another materialization of that view is running; wait for it (GetMaterializationStatusAsync) and retry.",
        _ => "See the gateway's log for details.",
    }, e);
}
