namespace Granary.Runtime;

/// <summary>
/// The silo a call was sent to is unreachable: its connection broke or it was declared dead while the call was
/// in flight, or no connection could be opened. Later calls are routed to a live silo.
/// </summary>
public sealed class SiloUnavailableException(string message, bool callMayHaveRun = true, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>
    /// False when the call certainly did not reach the silo (e.g. the connection could not be opened), so it is safe
    /// to retry; true when the outcome is unknown (the call was in flight).
    /// </summary>
    public bool CallMayHaveRun { get; } = callMayHaveRun;
}
