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

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await storage.ReadStateAsync(stateName, grainId, this, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            context.Instruments.StorageReadErrors.Add(1, _providerTag);
            throw;
        }
        context.Instruments.StorageReadLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _providerTag);
    }

    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await storage.WriteStateAsync(stateName, grainId, this, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            context.Instruments.StorageWriteErrors.Add(1, _providerTag);
            throw;
        }
        context.Instruments.StorageWriteLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _providerTag);
    }

    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await storage.ClearStateAsync(stateName, grainId, this, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            context.Instruments.StorageWriteErrors.Add(1, _providerTag);
            throw;
        }
        context.Instruments.StorageWriteLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _providerTag);
    }
}
