using System.Diagnostics;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Storage;

namespace Granary.Runtime.Catalog;

/// <summary>What an activation needs of its states: loading them before <c>OnActivateAsync</c>.</summary>
internal interface IPersistentStateLoader
{
    Task ReadStateAsync(CancellationToken cancellationToken);
}

/// <summary>Services shared by every persistent state of a silo.</summary>
internal sealed class PersistentStateContext(RuntimeInstruments instruments)
{
    public RuntimeInstruments Instruments { get; } = instruments;
}

/// <summary>An <see cref="IPersistentState{TState}"/> backed by a named <see cref="IGrainStorage"/>, with storage metrics.</summary>
internal sealed class PersistentState<TState>(string stateName, string storageName, GrainId grainId, IGrainStorage storage, PersistentStateContext context)
    : IPersistentState<TState>, IGrainState<TState>, IPersistentStateLoader
    where TState : new()
{
    private readonly KeyValuePair<string, object?> _providerTag = new("storage.provider", storageName);

    public TState State { get; set; } = new();
    public string? Etag => ETag;
    public string? ETag { get; set; }
    public bool RecordExists { get; set; }

    public Task ReadStateAsync(CancellationToken cancellationToken = default)
        => MeasureAsync(() => storage.ReadStateAsync(stateName, grainId, this, cancellationToken), context.Instruments.StorageReadLatency, context.Instruments.StorageReadErrors);

    public Task WriteStateAsync(CancellationToken cancellationToken = default)
        => MeasureAsync(() => storage.WriteStateAsync(stateName, grainId, this, cancellationToken), context.Instruments.StorageWriteLatency, context.Instruments.StorageWriteErrors);

    public Task ClearStateAsync(CancellationToken cancellationToken = default)
        => MeasureAsync(() => storage.ClearStateAsync(stateName, grainId, this, cancellationToken), context.Instruments.StorageWriteLatency, context.Instruments.StorageWriteErrors);

    private async Task MeasureAsync(Func<Task> operation, System.Diagnostics.Metrics.Histogram<double> latency, System.Diagnostics.Metrics.Counter<long> errors)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Providers may throw synchronously (memory) or fault the task (I/O): both count as errors.
            await operation().ConfigureAwait(false);
        }
        catch
        {
            errors.Add(1, _providerTag);
            throw;
        }
        latency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _providerTag);
    }
}
