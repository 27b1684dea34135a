using System.Text.Json;
using Granary.Runtime.Serialization;

namespace Granary.Runtime.Storage;

/// <summary>
/// Grain storage in process memory (tests, single-process demos). States are kept as JSON, so readers get copies and
/// serialization problems show up here exactly as with the durable providers.
/// </summary>
public sealed class MemoryGrainStorage(string name) : IGrainStorage
{
    private readonly Dictionary<(string StateName, GrainId GrainId), (string ETag, byte[] Json)> _records = [];
    private long _version;

    /// <summary>The provider's registered name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        (string ETag, byte[] Json) record;
        bool found;
        lock (_records) found = _records.TryGetValue((stateName, grainId), out record);
        if (found)
        {
            grainState.State = JsonSerializer.Deserialize(record.Json, GrainJson.TypeInfo<TState>()) ?? new TState();
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = new TState();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(grainState.State, GrainJson.TypeInfo<TState>());
        string etag;
        lock (_records)
        {
            var key = (stateName, grainId);
            var stored = _records.TryGetValue(key, out var record) ? record.ETag : null;
            if (stored != grainState.ETag)
                throw GrainStorageConflicts.EtagMismatch("Write", Name, stateName, grainId, stored, grainState.ETag);
            etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _records[key] = (etag, json);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new()
    {
        lock (_records)
        {
            var key = (stateName, grainId);
            var stored = _records.TryGetValue(key, out var record) ? record.ETag : null;
            if (stored != grainState.ETag)
                throw GrainStorageConflicts.EtagMismatch("Clear", Name, stateName, grainId, stored, grainState.ETag);
            _records.Remove(key);
        }
        grainState.State = new TState();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
