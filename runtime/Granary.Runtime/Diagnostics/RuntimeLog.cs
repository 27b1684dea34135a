using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Diagnostics;

/// <summary>The runtime's log messages (source-generated, no formatting unless enabled).</summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(1, LogLevel.Debug, "Activated {GrainId}")]
    public static partial void Activated(ILogger logger, GrainId grainId);

    [LoggerMessage(2, LogLevel.Warning, "Activation of {GrainId} failed; its pending calls fail with the same error")]
    public static partial void ActivationFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(3, LogLevel.Debug, "Deactivated {GrainId} ({Reason})")]
    public static partial void Deactivated(ILogger logger, GrainId grainId, DeactivationReasonCode reason);

    [LoggerMessage(4, LogLevel.Warning, "OnDeactivateAsync of {GrainId} failed; the activation is dropped anyway")]
    public static partial void DeactivationFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Timer callback of {GrainId} failed; the timer keeps running")]
    public static partial void TimerFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Call {Method} to {GrainId} timed out after {Timeout}; a late response will be dropped")]
    public static partial void CallTimedOut(ILogger logger, string method, GrainId grainId, TimeSpan timeout);

    [LoggerMessage(7, LogLevel.Debug, "Dropped expired call {Method} to {GrainId} before running it")]
    public static partial void ExpiredCallDropped(ILogger logger, string method, GrainId grainId);

    [LoggerMessage(8, LogLevel.Debug, "Idle collection: {Count} activations deactivated")]
    public static partial void Collected(ILogger logger, int count);

    [LoggerMessage(9, LogLevel.Information, "Granary silo started with {GrainClasses} grain classes")]
    public static partial void SiloStarted(ILogger logger, int grainClasses);

    [LoggerMessage(10, LogLevel.Information, "Granary silo stopping: deactivating {Count} activations")]
    public static partial void SiloStopping(ILogger logger, int count);

    [LoggerMessage(11, LogLevel.Error, "Unhandled exception in a turn of {GrainId}")]
    public static partial void TurnFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "A turn of {GrainId} ran for {Elapsed}; long synchronous work blocks the activation and a thread-pool thread")]
    public static partial void LongTurn(ILogger logger, GrainId grainId, TimeSpan elapsed);

    [LoggerMessage(12, LogLevel.Debug, "One-way call {Method} to {GrainId} failed")]
    public static partial void OneWayFailed(ILogger logger, string method, GrainId grainId, Exception exception);
}
