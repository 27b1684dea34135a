using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Granary.Grains.Health;
using Granary.FeatureHealth;
using Granary.Offline;
using Granary.Online;
using Granary.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.FeatureHealth;

/// <summary>
/// Feature logging on the gateway (as Feast's): a sample of the entity rows it serves (granary.yaml's
/// <c>feature_logging.sample_rate</c>, per feature service optional) goes, per feature view, to a bounded queue; a
/// background loop writes it in batches through <see cref="IFeatureLogGrain"/> to the offline store. A request never waits
/// for the log and never fails because of it: a full queue or a failed write drops rows and counts them.
/// </summary>
public sealed partial class FeatureLogger(IGrainFactory grains, IOptions<GatewayOptions> options, TimeProvider time, ILogger<FeatureLogger> logger,
    Security.PiiMaskingPolicy masking) : BackgroundService
{
    /// <summary>How often the settings are read again from the silo (granary.yaml changes need a silo restart anyway).</summary>
    public static readonly TimeSpan SettingsRefresh = TimeSpan.FromMinutes(1);

    private static readonly ConditionalWeakTable<HistoricalRetrievalPlan, string> Services = new();
    private volatile FeatureLogSettings? _settings;
    private Channel<QueuedRow>? _queue;
    private long _dropped;
    private long _written;

    /// <summary>Whether the settings arrived from the silo (before that nothing is logged).</summary>
    public bool Ready => _settings is not null;

    /// <summary>Rows dropped so far (queue full, or a write failed).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Rows written to the offline store so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Notes that <paramref name="plan"/> reads feature service <paramref name="service"/>, so its rows use that service's rate.</summary>
    public static void NoteService(HistoricalRetrievalPlan plan, string service) => Services.AddOrUpdate(plan, service);

    /// <summary>
    /// Logs a sample of the answer of <paramref name="read"/> once it completes; returns <paramref name="read"/> itself when
    /// nothing would be logged, so the request path pays nothing then.
    /// </summary>
    public Task<OnlineFeaturesResponse> Observe(Task<OnlineFeaturesResponse> read, HistoricalRetrievalPlan plan, IReadOnlyDictionary<string, IReadOnlyList<object?>> entities)
    {
        var settings = _settings;
        if (settings is null || _queue is null) return read;
        Services.TryGetValue(plan, out var service);
        var rate = settings.RateFor(service);
        if (rate <= 0) return read;
        return ObserveAsync(read, plan, service, rate);
    }

    private async Task<OnlineFeaturesResponse> ObserveAsync(Task<OnlineFeaturesResponse> read, HistoricalRetrievalPlan plan, string? service, double rate)
    {
        var response = await read;
        try
        {
            Enqueue(plan, service, rate, response);
        }
        catch (Exception e)
        {
            // Logging must never fail a request that was answered.
            LogEnqueueFailed(logger, e.Message);
        }
        return response;
    }

    private void Enqueue(HistoricalRetrievalPlan plan, string? service, double rate, OnlineFeaturesResponse response)
    {
        var rows = response.Results.Count == 0 ? 0 : response.Results[0].Values.Length;
        var now = time.GetUtcNow();
        Dictionary<string, int>? index = null;
        // Logged values of features tagged pii are masked whoever read them (feature logs have no reader to decide for).
        Core.Security.MaskingMode?[][]? masked = null;
        for (var r = 0; r < rows; r++)
        {
            if (rate < 1 && Random.Shared.NextDouble() >= rate) continue;
            index ??= IndexOf(response.FeatureNames);
            masked ??= plan.Views.Select(v => masking.ForLog(v.View, v.Features.Where(f => f.IsOutput).ToList())).ToArray();
            for (var v = 0; v < plan.Views.Count; v++)
            {
                var view = plan.Views[v];
                var keys = new object?[view.JoinKeys.Count];
                for (var k = 0; k < keys.Length; k++) keys[k] = response.Results[index[view.JoinKeys[k].EntityColumn]].Values[r];
                var outputs = view.Features.Where(f => f.IsOutput).ToList();
                var values = new object?[outputs.Count];
                var statuses = new byte[outputs.Count];
                for (var f = 0; f < outputs.Count; f++)
                {
                    var column = response.Results[index[outputs[f].ColumnName]];
                    values[f] = masked[v][f] is { } mode ? masking.Masker.Mask(column.Values[r], outputs[f].Type, mode) : column.Values[r];
                    statuses[f] = (byte)column.Statuses[r];
                    // As served to a reader without READ_UNMASKED: a value masked to null is NULL_VALUE.
                    if (masked[v][f] is not null && values[f] is null && column.Statuses[r] == FeatureStatus.Present) statuses[f] = (byte)FeatureStatus.NullValue;
                }
                var row = new QueuedRow(view.View.Name, [.. view.JoinKeys.Select(k => k.JoinKey)], [.. outputs.Select(f => f.Feature)],
                    new FeatureLogEntry(now, service, keys, values, statuses));
                if (_queue!.Writer.TryWrite(row)) Interlocked.Increment(ref _outstanding);
                else
                {
                    Interlocked.Increment(ref _dropped);
                    HealthMetrics.FeatureLogDropped(1);
                }
            }
        }
    }

    private static Dictionary<string, int> IndexOf(IReadOnlyList<string> names)
    {
        var index = new Dictionary<string, int>(names.Count, StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++) index.TryAdd(names[i], i);
        return index;
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sink = grains.GetGrain<IFeatureLogGrain>(options.Value.Project);
        while (_settings is null && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                var settings = await sink.GetSettingsAsync();
                _queue = Channel.CreateBounded<QueuedRow>(new BoundedChannelOptions(Math.Max(1, settings.QueueCapacity))
                {
                    FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = false,
                });
                _settings = settings;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The cluster may not be up yet: try again shortly; nothing is logged meanwhile.
                LogSettingsUnavailable(logger, e.Message);
                await DelayAsync(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
        if (_queue is null) return;
        var refreshAt = time.GetUtcNow() + SettingsRefresh;
        var pending = new Dictionary<string, List<QueuedRow>>(StringComparer.Ordinal);
        var count = 0;
        var oldest = DateTimeOffset.MaxValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var settings = _settings!;
            var wait = oldest == DateTimeOffset.MaxValue ? settings.FlushEvery : oldest + settings.FlushEvery - time.GetUtcNow();
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                timeout.CancelAfter(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
                try
                {
                    while (count < settings.BatchSize && await _queue.Reader.WaitToReadAsync(timeout.Token))
                    {
                        while (count < settings.BatchSize && _queue.Reader.TryRead(out var row))
                        {
                            if (count == 0) oldest = time.GetUtcNow();
                            (pending.TryGetValue(Shape(row), out var list) ? list : pending[Shape(row)] = []).Add(row);
                            count++;
                        }
                    }
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Flush interval reached.
                }
            }
            if (count > 0) await FlushAsync(sink, pending);
            pending.Clear();
            count = 0;
            oldest = DateTimeOffset.MaxValue;
            if (time.GetUtcNow() >= refreshAt)
            {
                refreshAt = time.GetUtcNow() + SettingsRefresh;
                try { _settings = await sink.GetSettingsAsync(); }
                catch (Exception e) when (e is not OperationCanceledException) { LogSettingsUnavailable(logger, e.Message); }
            }
        }
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // What is still queued at shutdown is written once more, best effort.
        if (_queue is null) return;
        var pending = new Dictionary<string, List<QueuedRow>>(StringComparer.Ordinal);
        while (_queue.Reader.TryRead(out var row)) (pending.TryGetValue(Shape(row), out var list) ? list : pending[Shape(row)] = []).Add(row);
        if (pending.Count > 0) await FlushAsync(grains.GetGrain<IFeatureLogGrain>(options.Value.Project), pending);
    }

    /// <summary>Waits until every queued row is written or dropped (tests, shutdown); false when <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        var until = time.GetUtcNow() + timeout;
        while (time.GetUtcNow() < until)
        {
            if (Interlocked.Read(ref _outstanding) == 0) return true;
            await Task.Delay(50);
        }
        return false;
    }

    // Rows queued and not yet written or dropped (what DrainAsync waits for).
    private long _outstanding;

    private async Task FlushAsync(IFeatureLogGrain sink, Dictionary<string, List<QueuedRow>> pending)
    {
        foreach (var rows in pending.Values)
        {
            var first = rows[0];
            try
            {
                var written = await sink.AppendAsync(new FeatureLogBatch(first.View, first.JoinKeys, first.Features, [.. rows.Select(r => r.Entry)]));
                Interlocked.Add(ref _written, written);
                HealthMetrics.FeatureLogWritten(written);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Interlocked.Add(ref _dropped, rows.Count);
                HealthMetrics.FeatureLogDropped(rows.Count);
                LogWriteFailed(logger, rows.Count, first.View, e.Message);
            }
            finally
            {
                Interlocked.Add(ref _outstanding, -rows.Count);
            }
        }
    }

    private static string Shape(QueuedRow row) => row.View + "|" + string.Join(",", row.JoinKeys) + "|" + string.Join(",", row.Features);

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try { await Task.Delay(delay, time, cancellationToken); }
        catch (OperationCanceledException) { }
    }

    private sealed record QueuedRow(string View, string[] JoinKeys, string[] Features, FeatureLogEntry Entry);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature logging: {Rows} rows of view {View} dropped, the write failed: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, int rows, string view, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature logging: settings not available yet: {Reason}")]
    private static partial void LogSettingsUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature logging: a served answer could not be queued: {Reason}")]
    private static partial void LogEnqueueFailed(ILogger logger, string reason);
}
