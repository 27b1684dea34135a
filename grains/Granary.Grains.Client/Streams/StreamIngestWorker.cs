using System.Diagnostics;
using Granary.Definitions;
using Granary.Streams;
using Granary.Observability;
using Granary.Online;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Streams;

/// <summary>What one push of a micro-batch did, as the push path answered it.</summary>
/// <param name="Accepted">Rows stored by this push.</param>
/// <param name="Duplicates">Rows dropped because their event id was already stored (a redelivery).</param>
/// <param name="Rejected">Null when the batch was stored; else why the push path refused it (nothing stored).</param>
public sealed record StreamPushResult(int Accepted, int Duplicates, string? Rejected);

/// <summary>
/// Where the worker pushes: the push path of one push source (the push grain in a silo, or a gateway through the client
/// SDK). Answers only once every row is stored; a refused batch (bad rows) is a result; a failure worth retrying (store or
/// silo unreachable, a call past its deadline) is thrown as <see cref="StreamUnavailableException"/> or
/// <see cref="OnlineStoreUnavailableException"/>; any other failure ends the worker.
/// </summary>
public interface IStreamPushTarget
{
    /// <summary>Pushes the rows; answers when stored (or refused).</summary>
    Task<StreamPushResult> PushAsync(string[] columns, object?[][] rows, CancellationToken cancellationToken);
}

/// <summary>The worker's counts since it started, and the group's lag when last measured.</summary>
public sealed record StreamIngestProgress(long Read, long Pushed, long Duplicates, long DeadLettered, long Claimed, StreamLag? Lag);

/// <summary>
/// Reads a stream into a push source: reads through the consumer group, micro-batches by size and time, maps events to
/// rows, pushes, and acknowledges events only after the push answered that they are stored. Bad events (unmappable, or
/// refused by the push path's validation) go to the dead-letter stream with their reason and position, found by halving
/// a refused batch, so the rest of it is stored. Events a crashed worker read and never acknowledged are claimed after
/// the stream's <c>claim_after</c>. With the push path's event-id deduplication, every event takes effect once.
/// </summary>
/// <remarks>
/// One micro-batch is pushed at a time, and reading waits for it: when pushes slow down, so do reads (the backlog stays in
/// the stream, visible as lag). A push that fails (store down) is retried with back-off, never acknowledged meanwhile.
/// </remarks>
public sealed partial class StreamIngestWorker(
    string pushSource, StreamDefinition stream, IStreamSource source, IStreamPushTarget target, string eventIdColumn, TimeProvider clock, ILogger logger)
{
    private readonly StreamEventMapper _mapper = new(stream, eventIdColumn);
    private long _read, _pushed, _duplicates, _deadLettered, _claimed;
    private StreamLag? _lag;

    /// <summary>The shortest and longest pause when the stream has nothing new.</summary>
    private static readonly TimeSpan FirstIdlePause = TimeSpan.FromMilliseconds(5), MaxIdlePause = TimeSpan.FromMilliseconds(200);
    /// <summary>The shortest and longest pause before retrying a failed push or stream command.</summary>
    private static readonly TimeSpan FirstRetryPause = TimeSpan.FromMilliseconds(100), MaxRetryPause = TimeSpan.FromSeconds(5);
    /// <summary>How often lag is measured.</summary>
    private static readonly TimeSpan LagEvery = TimeSpan.FromSeconds(1);

    /// <summary>Counts so far.</summary>
    public StreamIngestProgress Progress => new(Interlocked.Read(ref _read), Interlocked.Read(ref _pushed), Interlocked.Read(ref _duplicates),
        Interlocked.Read(ref _deadLettered), Interlocked.Read(ref _claimed), Volatile.Read(ref _lag));

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled (then the batch in hand is not acknowledged, and is redelivered).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await RetryAsync(() => source.EnsureGroupAsync(cancellationToken), "create the consumer group", cancellationToken);
        var batch = new List<StreamEvent>(stream.BatchSize);
        var firstAt = 0L;
        var lastClaim = long.MinValue;
        var lastLag = long.MinValue;
        var idle = FirstIdlePause;
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = clock.GetTimestamp();
            if (lastLag == long.MinValue || clock.GetElapsedTime(lastLag) >= LagEvery)
            {
                lastLag = now;
                await MeasureLagAsync(cancellationToken);
            }
            // Stale pending events are checked a few times per claim_after: a crashed worker's batch waits at most about that long.
            if (batch.Count == 0 && (lastClaim == long.MinValue || clock.GetElapsedTime(lastClaim) >= stream.ClaimAfter / 4))
            {
                lastClaim = now;
                var stale = await RetryAsync(() => source.ClaimStaleAsync(stream.ClaimAfter, stream.BatchSize, cancellationToken), "claim stale events", cancellationToken);
                if (stale.Count > 0)
                {
                    Interlocked.Add(ref _claimed, stale.Count);
                    LogClaimed(logger, stale.Count, pushSource);
                    await ProcessAsync(stale, cancellationToken);
                    lastClaim = long.MinValue; // more may be waiting
                    continue;
                }
            }
            var read = await RetryAsync(() => source.ReadAsync(stream.BatchSize - batch.Count, cancellationToken), "read", cancellationToken);
            if (read.Count > 0)
            {
                if (batch.Count == 0) firstAt = clock.GetTimestamp();
                batch.AddRange(read);
                Interlocked.Add(ref _read, read.Count);
                GranaryMetrics.RecordStreamRead(pushSource, read.Count);
                idle = FirstIdlePause;
            }
            var full = batch.Count >= stream.BatchSize;
            var due = batch.Count > 0 && clock.GetElapsedTime(firstAt) >= stream.BatchTime;
            if (full || due)
            {
                await ProcessAsync(batch, cancellationToken);
                batch = new List<StreamEvent>(stream.BatchSize);
                continue;
            }
            if (read.Count == 0)
            {
                // Nothing new: wait a little (never past the batch's deadline), longer while the stream stays quiet.
                var pause = idle;
                if (batch.Count > 0)
                {
                    var left = stream.BatchTime - clock.GetElapsedTime(firstAt);
                    if (left < pause) pause = left > TimeSpan.Zero ? left : TimeSpan.Zero;
                }
                if (pause > TimeSpan.Zero) await Task.Delay(pause, clock, cancellationToken).ConfigureAwait(false);
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, MaxIdlePause.Ticks));
            }
        }
    }

    /// <summary>Maps, pushes, dead-letters and acknowledges one micro-batch; answers once every event in it is settled.</summary>
    private async Task ProcessAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        var mapped = new List<MappedEvent>(events.Count);
        var dead = new List<DeadLetter>();
        foreach (var e in events)
        {
            var (row, problem) = _mapper.Map(e);
            if (row is not null) mapped.Add(row);
            else dead.Add(new DeadLetter(e.Position, problem!, e.Fields, clock.GetUtcNow()));
        }
        if (mapped.Count > 0) await PushAsync(mapped, dead, cancellationToken);
        if (dead.Count > 0)
        {
            await RetryAsync(() => source.DeadLetterAsync(dead, cancellationToken), "write dead letters", cancellationToken);
            Interlocked.Add(ref _deadLettered, dead.Count);
            GranaryMetrics.RecordStreamDeadLettered(pushSource, dead.Count);
            foreach (var d in dead) LogDeadLettered(logger, pushSource, d.Position, d.Reason);
        }
        if (mapped.Count > 0)
        {
            var deadPositions = dead.Select(d => d.Position).ToHashSet(StringComparer.Ordinal);
            var positions = new List<string>(mapped.Count);
            foreach (var m in mapped)
                if (!deadPositions.Contains(m.Event.Position)) positions.Add(m.Event.Position);
            await RetryAsync(() => source.AcknowledgeAsync(positions, cancellationToken), "acknowledge", cancellationToken);
        }
    }

    /// <summary>
    /// Pushes <paramref name="events"/>; a refused batch is halved until the refused events stand alone, which join
    /// <paramref name="dead"/> with the push path's reason; the rest are stored.
    /// </summary>
    private async Task PushAsync(List<MappedEvent> events, List<DeadLetter> dead, CancellationToken cancellationToken)
    {
        var (columns, rows) = StreamEventMapper.Rows(events);
        var result = await RetryAsync(() => target.PushAsync(columns, rows, cancellationToken), "push", cancellationToken);
        if (result.Rejected is null)
        {
            Interlocked.Add(ref _pushed, result.Accepted);
            Interlocked.Add(ref _duplicates, result.Duplicates);
            var now = clock.GetUtcNow();
            var latencies = new double[events.Count];
            for (var i = 0; i < events.Count; i++) latencies[i] = (now - events[i].EventTime).TotalSeconds;
            GranaryMetrics.RecordStreamPushed(pushSource, result.Accepted, result.Duplicates, latencies);
            return;
        }
        if (events.Count == 1)
        {
            var e = events[0].Event;
            dead.Add(new DeadLetter(e.Position, result.Rejected, e.Fields, clock.GetUtcNow()));
            return;
        }
        var half = events.Count / 2;
        await PushAsync(events.GetRange(0, half), dead, cancellationToken);
        await PushAsync(events.GetRange(half, events.Count - half), dead, cancellationToken);
    }

    private async Task MeasureLagAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lag = await source.LagAsync(cancellationToken);
            Volatile.Write(ref _lag, lag);
            GranaryMetrics.RecordStreamLag(pushSource, lag.Pending, lag.Unread);
        }
        catch (StreamUnavailableException e)
        {
            LogLagFailed(logger, pushSource, e.Message);
        }
    }

    /// <summary>Runs <paramref name="step"/> until it succeeds, pausing longer after each retriable failure; other errors end the worker.</summary>
    private async Task<T> RetryAsync<T>(Func<Task<T>> step, string what, CancellationToken cancellationToken)
    {
        var pause = FirstRetryPause;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await step();
            }
            catch (Exception e) when (e is StreamUnavailableException or OnlineStoreUnavailableException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                LogRetrying(logger, pushSource, what, e.Message, pause.TotalSeconds, watch.Elapsed.TotalSeconds);
                await Task.Delay(pause, clock, cancellationToken).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxRetryPause.Ticks));
            }
        }
    }

    private Task RetryAsync(Func<Task> step, string what, CancellationToken cancellationToken)
        => RetryAsync(async () => { await step(); return true; }, what, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream ingest into {PushSource}: claimed {Count} events a stopped worker had read")]
    private static partial void LogClaimed(ILogger logger, int count, string pushSource);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream ingest into {PushSource}: event {Position} dead-lettered: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string pushSource, string position, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream ingest into {PushSource}: could not measure lag: {Reason}")]
    private static partial void LogLagFailed(ILogger logger, string pushSource, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream ingest into {PushSource}: {What} failed ({Reason}); retrying in {Pause:0.##} s ({Elapsed:0.#} s so far)")]
    private static partial void LogRetrying(ILogger logger, string pushSource, string what, string reason, double pause, double elapsed);
}
