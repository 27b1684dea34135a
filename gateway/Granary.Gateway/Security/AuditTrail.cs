using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Granary.Audit;
using Granary.Grains.Audit;
using Granary.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Gateway.Security;

/// <summary>
/// The gateway's side of the audit log: requests hand their entries here and wait until they are stored; one writer
/// loop takes every entry waiting at that moment and stores them with one audit-grain call (group commit, no timer:
/// a lone request is written at once, a burst shares one write). On a clean shutdown the loop drains what is queued.
/// </summary>
public sealed partial class AuditTrail : IHostedService, IAsyncDisposable
{
    private const int MaxBatch = 1_000;
    private const int Attempts = 3;
    private static readonly Counter<long> Written = GranaryMetrics.Meter.CreateCounter<long>("audit_records_written_total", null, "Audit records the gateway stored.");
    private static readonly Counter<long> Failed = GranaryMetrics.Meter.CreateCounter<long>("audit_write_failures_total", null, "Audit records the gateway could not store (after retries).");

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IGrainFactory _grains;
    private readonly ILogger<AuditTrail> _logger;
    private Task? _writer;

    /// <summary>A trail writing through the audit grain of <paramref name="grains"/>.</summary>
    public AuditTrail(IGrainFactory grains, ILogger<AuditTrail> logger)
    {
        _grains = grains;
        _logger = logger;
    }

    /// <summary>Stores <paramref name="entries"/>; completes once they are stored, or once storing them failed (counted and logged, never thrown).</summary>
    public Task RecordAsync(IReadOnlyList<AuditEntry> entries)
    {
        if (entries.Count == 0) return Task.CompletedTask;
        var pending = new Pending(entries, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            // Stopped: nothing will store it any more.
            Failed.Add(entries.Count);
            LogStopped(_logger, entries.Count);
            return Task.CompletedTask;
        }
        return pending.Stored.Task;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writer ??= Task.Run(WriteLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (_writer is not null) await _writer.WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>();
        var entries = new List<AuditEntry>();
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            entries.Clear();
            while (entries.Count < MaxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                entries.AddRange(pending.Entries);
            }
            await StoreAsync(entries);
            foreach (var pending in batch) pending.Stored.TrySetResult();
        }
    }

    private async Task StoreAsync(List<AuditEntry> entries)
    {
        var grain = _grains.GetGrain<IAuditGrain>(IAuditGrain.Key);
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                await grain.AppendAsync(entries.ToArray());
                Written.Add(entries.Count);
                return;
            }
            catch (Exception e) when (attempt < Attempts)
            {
                LogRetry(_logger, entries.Count, attempt, e.Message);
            }
            catch (Exception e)
            {
                Failed.Add(entries.Count);
                LogFailed(_logger, e, entries.Count);
            }
        }
    }

    private sealed record Pending(IReadOnlyList<AuditEntry> Entries, TaskCompletionSource Stored);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing {Count} audit records failed (attempt {Attempt}): {Reason}; trying again")]
    private static partial void LogRetry(ILogger logger, int count, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} audit records could not be stored; they are lost (counted in granary_audit_write_failures_total)")]
    private static partial void LogFailed(ILogger logger, Exception error, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} audit records arrived after the gateway stopped its audit trail; they are lost")]
    private static partial void LogStopped(ILogger logger, int count);
}
