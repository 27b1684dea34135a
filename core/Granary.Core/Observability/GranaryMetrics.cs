using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Granary.Observability;

/// <summary>
/// Granary's instruments, all on one <see cref="Meter"/> named <c>Granary</c>: the one place every layer (core, grains,
/// gateway) records through. prometheus-net exports an instrument as <c>lower(meter)_instrument</c> and adds no unit or
/// <c>_total</c> suffix itself, so each instrument name below carries its Prometheus suffix (<c>_seconds</c>, <c>_total</c>)
/// and exports as <c>granary_&lt;name&gt;</c>. Labels are bounded: registry object names, endpoint names from a fixed list,
/// outcome classes; never entity keys. docs/observability.md lists every series.
/// </summary>
/// <remarks>
/// Gauges that depend on the time ("seconds since") are observable: computed from what was last recorded when a scrape
/// collects them, with <see cref="Clock"/>. They describe what this process saw; a cluster aggregates them per view
/// (docs/observability.md says which aggregate each alert uses).
/// </remarks>
public static partial class GranaryMetrics
{
    /// <summary>The meter's name; other Granary code that adds instruments (feature health) uses <see cref="Meter"/>.</summary>
    public const string MeterName = "Granary";

    /// <summary>The Granary meter. An instrument named <c>x</c> on it is exported as <c>granary_x</c>.</summary>
    public static Meter Meter { get; } = new(MeterName);

    /// <summary>The clock the observable gauges read at collection; tests may replace it.</summary>
    public static TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Label names, as exported.</summary>
    public static class Labels
    {
        /// <summary>A feature view's name.</summary>
        public const string FeatureView = "feature_view";
        /// <summary>A push source's name.</summary>
        public const string PushSource = "push_source";
        /// <summary>The gateway endpoint (a fixed list, see the gateway's request metrics).</summary>
        public const string Endpoint = "endpoint";
        /// <summary><c>rest</c> or <c>grpc</c>.</summary>
        public const string Protocol = "protocol";
        /// <summary>An outcome: HTTP status class (<c>2xx</c>, <c>4xx</c>, <c>5xx</c>), gRPC status name, or a Feast feature status.</summary>
        public const string Status = "status";
    }

    private static readonly ConcurrentDictionary<string, ViewState> Views = new(StringComparer.Ordinal);

    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(
        "online_request_duration_seconds", "s", "Time the gateway took to answer an online request, by endpoint and protocol.");
    // Counters are observable, read from totals kept here: every scrape then renews every series, so a rare one (a
    // daily run's rows, a failure) is never expired by the exporter and never restarts from zero between scrapes.
    private static readonly Totals Requests = new("online_requests_total",
        "Online requests answered, by endpoint, protocol and status (HTTP class or gRPC status name).",
        Labels.Endpoint, Labels.Protocol, Labels.Status);
    private static readonly Totals FeatureValues = new("online_feature_values_total",
        "Feature values served, by feature view and Feast status (PRESENT, NULL_VALUE, NOT_FOUND, OUTSIDE_MAX_AGE).",
        Labels.FeatureView, Labels.Status);
    private static readonly Totals StaleValues = new("online_stale_values_total",
        "Found feature values served older than their view's freshness SLA, by feature view.",
        Labels.FeatureView);
    private static readonly Totals ServedFromCache = new("online_served_from_cache_total",
        "Feature values served from an entity grain's cache while the online store was unreachable (flagged last-known-good answers), by feature view.",
        Labels.FeatureView);
    private static readonly Totals MaterializationFailures = new("materialization_failures_total",
        "Materialization runs that failed, by feature view.",
        Labels.FeatureView);
    private static readonly Totals MaterializationRows = new("materialization_rows_written_total",
        "Entity rows written to the online store by successful materialization runs, by feature view.",
        Labels.FeatureView);
    private static readonly Totals MaterializationFeatures = new("materialization_features_written_total",
        "Feature values written by successful materialization runs (rows x features), by feature view.",
        Labels.FeatureView);
    private static readonly Totals PushRows = new("push_rows_total",
        "Rows of answered pushes to a known push source (stored, dropped as duplicates, or rejected), by push source.",
        Labels.PushSource);
    private static readonly Totals PushRejectedRows = new("push_rejected_rows_total",
        "Rows of pushes rejected by validation (a bad batch is rejected whole), by push source.",
        Labels.PushSource);
    private static readonly Totals PushDuplicates = new("push_duplicates_dropped_total",
        "Pushed rows dropped because their event id was already seen in the deduplication window, by push source.",
        Labels.PushSource);

    private static readonly Totals StreamEventsRead = new("stream_events_read_total",
        "Events read from a stream by this process's ingest workers (first deliveries), by push source.",
        Labels.PushSource);
    private static readonly Totals StreamEventsPushed = new("stream_events_pushed_total",
        "Stream events stored by an acknowledged push, by push source.",
        Labels.PushSource);
    private static readonly Totals StreamEventsDuplicate = new("stream_events_duplicate_total",
        "Stream events dropped by the push path as already stored (redeliveries, repeated ids), by push source.",
        Labels.PushSource);
    private static readonly Totals StreamEventsDeadLettered = new("stream_events_dead_lettered_total",
        "Stream events set aside in the dead-letter stream (unmappable or refused by validation), by push source.",
        Labels.PushSource);
    private static readonly Histogram<double> StreamLatency = Meter.CreateHistogram<double>(
        "stream_end_to_end_latency_seconds", "s", "Time from an event's event time to its push being acknowledged (written online), by push source.");
    private static readonly ConcurrentDictionary<string, (long Pending, long Unread)> StreamLags = new(StringComparer.Ordinal);

    static GranaryMetrics()
    {
        Meter.CreateObservableGauge("stream_lag_events", ObserveStreamLag, null,
            "Events of a stream's consumer group not yet taken into effect, by push source and state (pending: read, not acknowledged; unread), as last measured by this process.");
        Meter.CreateObservableGauge("feature_freshness_seconds", () => Observe(v => v.NewestServedMicros == long.MinValue ? null : Now() - v.NewestServedMicros / 1e6),
            "s", "Seconds between now and the newest event timestamp this process served, by feature view.");
        Meter.CreateObservableGauge("feature_view_freshness_sla_seconds", () => Observe(v => v.FreshnessSlaSeconds),
            "s", "The feature view's freshness SLA (FeatureView.FreshnessSla or the sla_freshness_minutes tag), by feature view.");
        Meter.CreateObservableGauge("materialization_lag_seconds", () => Observe(v => v.LastSuccessEndSeconds is { } end ? Now() - end : null),
            "s", "Seconds between now and the end of the last successful materialization interval seen by this process, by feature view.");
        Meter.CreateObservableGauge("materialization_last_success_timestamp_seconds", () => Observe(v => v.LastSuccessAtSeconds),
            "s", "Unix time at which the last successful materialization run seen by this process finished, by feature view.");
        Meter.CreateObservableGauge("materialization_schedule_seconds", () => Observe(v => v.ScheduleSeconds),
            "s", "The interval of the feature view's materialization schedule, by feature view (absent when not scheduled).");
    }

    /// <summary>Records one answered online request.</summary>
    /// <param name="endpoint">The endpoint's name from the gateway's fixed list.</param>
    /// <param name="protocol"><c>rest</c> or <c>grpc</c>.</param>
    /// <param name="status">The outcome: HTTP status class or gRPC status name.</param>
    /// <param name="seconds">The time to answer.</param>
    public static void RecordRequest(string endpoint, string protocol, string status, double seconds)
    {
        RequestDuration.Record(seconds, new KeyValuePair<string, object?>(Labels.Endpoint, endpoint), new KeyValuePair<string, object?>(Labels.Protocol, protocol));
        Requests.Add(1, endpoint, protocol, status);
    }

    /// <summary>Records <paramref name="count"/> values of <paramref name="view"/> served with Feast status <paramref name="status"/>.</summary>
    public static void RecordFeatureValues(string view, string status, long count)
    {
        if (count > 0) FeatureValues.Add(count, view, status);
    }

    /// <summary>
    /// Records what an online read of <paramref name="view"/> served besides statuses: stale values, the newest event
    /// timestamp (for the freshness gauge), and the view's freshness SLA (null: none).
    /// </summary>
    public static void RecordServed(string view, long staleValues, DateTimeOffset? newestEvent, TimeSpan? freshnessSla)
    {
        if (staleValues > 0) StaleValues.Add(staleValues, view);
        NoteFreshnessSla(view, freshnessSla);
        if (newestEvent is { } newest) State(view).ObserveServed(newest.ToUnixTimeMilliseconds() * 1000);
    }

    /// <summary>Records <paramref name="count"/> values of <paramref name="view"/> served from a grain's cache while the online store was unreachable.</summary>
    public static void RecordServedFromCache(string view, long count)
    {
        if (count > 0) ServedFromCache.Add(count, view);
    }

    /// <summary>Records a successful materialization run of <paramref name="view"/> over a window ending at <paramref name="end"/>.</summary>
    public static void RecordMaterializationSucceeded(string view, DateTimeOffset end, DateTimeOffset finishedAt, long rows, long features)
    {
        MaterializationRows.Add(rows, view);
        MaterializationFeatures.Add(features, view);
        NoteMaterializationSuccess(view, end, finishedAt);
    }

    /// <summary>
    /// Sets the last successful run of <paramref name="view"/> without counting rows: what a materialization grain
    /// republishes from its checkpoint when it activates (after a restart, on another silo).
    /// </summary>
    public static void NoteMaterializationSuccess(string view, DateTimeOffset end, DateTimeOffset finishedAt)
    {
        var state = State(view);
        lock (state)
        {
            // Keep the newest interval when runs are reported out of order (a resumed checkpoint, a second silo).
            if (state.LastSuccessEndSeconds is { } known && known > end.ToUnixTimeMilliseconds() / 1e3) return;
            state.LastSuccessEndSeconds = end.ToUnixTimeMilliseconds() / 1e3;
            state.LastSuccessAtSeconds = finishedAt.ToUnixTimeMilliseconds() / 1e3;
        }
    }

    /// <summary>
    /// Notes that a run of <paramref name="view"/> starts: its counters exist from now on, at zero until something is
    /// counted, so Prometheus sees the first failure as an increase.
    /// </summary>
    public static void RecordMaterializationStarted(string view)
    {
        MaterializationFailures.Add(0, view);
        MaterializationRows.Add(0, view);
        MaterializationFeatures.Add(0, view);
    }

    /// <summary>Records a failed materialization run of <paramref name="view"/>.</summary>
    public static void RecordMaterializationFailed(string view)
        => MaterializationFailures.Add(1, view);

    /// <summary>Sets (or with null clears) the interval of <paramref name="view"/>'s materialization schedule.</summary>
    public static void NoteMaterializationSchedule(string view, TimeSpan? every) => State(view).ScheduleSeconds = every?.TotalSeconds;

    /// <summary>Sets the freshness SLA of <paramref name="view"/> (null: none), as known where the definition is read.</summary>
    public static void NoteFreshnessSla(string view, TimeSpan? freshnessSla) => State(view).FreshnessSlaSeconds = freshnessSla?.TotalSeconds;

    /// <summary>Records one push to <paramref name="source"/>: rows received, rows rejected by validation, duplicates dropped.</summary>
    public static void RecordPush(string source, long rows, long rejected, long duplicates)
    {
        PushRows.Add(rows, source);
        // Zero is recorded too, so a source's rejected and dropped series exist (at 0) from its first push on.
        PushRejectedRows.Add(rejected, source);
        PushDuplicates.Add(duplicates, source);
    }

    /// <summary>Records <paramref name="count"/> events read from the stream of <paramref name="source"/>.</summary>
    public static void RecordStreamRead(string source, long count)
    {
        StreamEventsRead.Add(count, source);
        StreamEventsPushed.Add(0, source);
        StreamEventsDuplicate.Add(0, source);
        StreamEventsDeadLettered.Add(0, source);
    }

    /// <summary>Records an acknowledged push of stream events and, per event pushed, seconds from its event time to now.</summary>
    public static void RecordStreamPushed(string source, long stored, long duplicates, ReadOnlySpan<double> latencySeconds)
    {
        StreamEventsPushed.Add(stored, source);
        StreamEventsDuplicate.Add(duplicates, source);
        var label = new KeyValuePair<string, object?>(Labels.PushSource, source);
        foreach (var seconds in latencySeconds) StreamLatency.Record(seconds, label);
    }

    /// <summary>Records <paramref name="count"/> stream events set aside in the dead-letter stream.</summary>
    public static void RecordStreamDeadLettered(string source, long count) => StreamEventsDeadLettered.Add(count, source);

    /// <summary>Sets the lag of the stream of <paramref name="source"/> as just measured.</summary>
    public static void RecordStreamLag(string source, long pending, long unread) => StreamLags[source] = (pending, unread);

    private static IEnumerable<Measurement<long>> ObserveStreamLag()
    {
        foreach (var (source, (pending, unread)) in StreamLags)
        {
            var label = new KeyValuePair<string, object?>(Labels.PushSource, source);
            yield return new Measurement<long>(pending, label, new KeyValuePair<string, object?>("state", "pending"));
            yield return new Measurement<long>(unread, label, new KeyValuePair<string, object?>("state", "unread"));
        }
    }

    private static ViewState State(string view) => Views.GetOrAdd(view, static _ => new ViewState());

    private static double Now() => Clock.GetUtcNow().ToUnixTimeMilliseconds() / 1e3;

    private static IEnumerable<Measurement<double>> Observe(Func<ViewState, double?> value)
    {
        foreach (var (view, state) in Views)
        {
            if (value(state) is { } v) yield return new Measurement<double>(v, new KeyValuePair<string, object?>(Labels.FeatureView, view));
        }
    }

    /// <summary>Cumulative totals of one counter per label values (up to three labels), observed at collection.</summary>
    private sealed class Totals
    {
        private readonly ConcurrentDictionary<(string, string, string), StrongBox<long>> _values = new();
        private readonly string[] _labels;

        public Totals(string name, string description, params string[] labels)
        {
            _labels = labels;
            Meter.CreateObservableCounter(name, Observe, null, description);
        }

        public void Add(long count, string a, string b = "", string c = "")
        {
            var total = _values.GetOrAdd((a, b, c), static _ => new StrongBox<long>());
            Interlocked.Add(ref total.Value, count);
        }

        public IEnumerable<Measurement<long>> Observe()
        {
            foreach (var ((a, b, c), total) in _values)
            {
                var tags = new KeyValuePair<string, object?>[_labels.Length];
                tags[0] = new(_labels[0], a);
                if (_labels.Length > 1) tags[1] = new(_labels[1], b);
                if (_labels.Length > 2) tags[2] = new(_labels[2], c);
                yield return new Measurement<long>(Interlocked.Read(ref total.Value), tags);
            }
        }
    }

    /// <summary>What the gauges of one feature view read; fields are written by recorders and read by collection.</summary>
    private sealed class ViewState
    {
        private long _newestServedMicros = long.MinValue;

        public long NewestServedMicros => Interlocked.Read(ref _newestServedMicros);
        public double? FreshnessSlaSeconds { get; set; }
        public double? LastSuccessEndSeconds { get; set; }
        public double? LastSuccessAtSeconds { get; set; }
        public double? ScheduleSeconds { get; set; }

        public void ObserveServed(long micros)
        {
            // Lock-free max: many reads of one view record at once.
            var seen = Interlocked.Read(ref _newestServedMicros);
            while (micros > seen)
            {
                var previous = Interlocked.CompareExchange(ref _newestServedMicros, micros, seen);
                if (previous == seen) return;
                seen = previous;
            }
        }
    }
}
