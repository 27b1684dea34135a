using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Granary.Runtime.Diagnostics;

/// <summary>The runtime's instruments, on the meter <see cref="MeterName"/>.</summary>
public sealed class RuntimeInstruments
{
    /// <summary>Name of the runtime's <see cref="Meter"/>.</summary>
    public const string MeterName = "Granary.Runtime";

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/> (one meter per silo).</summary>
    public RuntimeInstruments(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        Activations = Meter.CreateUpDownCounter<long>("granary-catalog-activations", description: "Live activations, tagged by grain.type.");
        ActivationsCreated = Meter.CreateCounter<long>("granary-catalog-activations-created", description: "Activations created, tagged by grain.type.");
        ActivationFailures = Meter.CreateCounter<long>("granary-catalog-activation-failures", description: "Activations whose state load or OnActivateAsync failed.");
        Requests = Meter.CreateCounter<long>("granary-app-requests", description: "Grain calls completed on this silo.");
        RequestLatency = Meter.CreateHistogram<double>("granary-app-requests-latency", unit: "ms", description: "Time from call to completion of grain calls.");
        Timeouts = Meter.CreateCounter<long>("granary-app-requests-timedout", description: "Calls whose response did not arrive within the response timeout.");
        StorageReadLatency = Meter.CreateHistogram<double>("granary-storage-read-latency", unit: "ms", description: "Grain state reads, tagged by storage.provider.");
        StorageWriteLatency = Meter.CreateHistogram<double>("granary-storage-write-latency", unit: "ms", description: "Grain state writes and clears, tagged by storage.provider.");
        StorageReadErrors = Meter.CreateCounter<long>("granary-storage-read-errors", description: "Failed grain state reads.");
        StorageWriteErrors = Meter.CreateCounter<long>("granary-storage-write-errors", description: "Failed grain state writes and clears (ETag conflicts included).");
    }

    /// <summary>The silo's meter.</summary>
    public Meter Meter { get; }
    /// <summary><c>granary-catalog-activations</c>.</summary>
    public UpDownCounter<long> Activations { get; }
    /// <summary><c>granary-catalog-activations-created</c>.</summary>
    public Counter<long> ActivationsCreated { get; }
    /// <summary><c>granary-catalog-activation-failures</c>.</summary>
    public Counter<long> ActivationFailures { get; }
    /// <summary><c>granary-app-requests</c>.</summary>
    public Counter<long> Requests { get; }
    /// <summary><c>granary-app-requests-latency</c> (ms).</summary>
    public Histogram<double> RequestLatency { get; }
    /// <summary><c>granary-app-requests-timedout</c>.</summary>
    public Counter<long> Timeouts { get; }
    /// <summary><c>granary-storage-read-latency</c> (ms).</summary>
    public Histogram<double> StorageReadLatency { get; }
    /// <summary><c>granary-storage-write-latency</c> (ms).</summary>
    public Histogram<double> StorageWriteLatency { get; }
    /// <summary><c>granary-storage-read-errors</c>.</summary>
    public Counter<long> StorageReadErrors { get; }
    /// <summary><c>granary-storage-write-errors</c>.</summary>
    public Counter<long> StorageWriteErrors { get; }

    /// <summary>Whether anyone listens to per-call latency; when not, the hot path skips taking timestamps.</summary>
    internal bool MeasureRequests => RequestLatency.Enabled || Requests.Enabled;

    /// <summary>Records one completed call that started at <paramref name="startTimestamp"/> (0 = not measured).</summary>
    internal void RecordRequest(long startTimestamp)
    {
        if (startTimestamp == 0) return;
        Requests.Add(1);
        RequestLatency.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);
    }
}
