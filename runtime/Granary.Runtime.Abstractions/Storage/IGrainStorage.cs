namespace Granary.Runtime.Storage;

/// <summary>One grain state as a storage provider reads and writes it.</summary>
public interface IGrainState<TState>
{
    /// <summary>The value; providers set a new instance when no record exists.</summary>
    TState State { get; set; }
    /// <summary>The stored record's version token; null when no record exists.</summary>
    string? ETag { get; set; }
    /// <summary>Whether a record exists in storage.</summary>
    bool RecordExists { get; set; }
}

/// <summary>
/// A grain storage provider. Writes and clears are compare-and-set on <see cref="IGrainState{TState}.ETag"/>:
/// when the stored ETag differs (a null ETag matches only a missing record) they throw <see cref="InconsistentStateException"/>
/// and change nothing.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Loads the state named <paramref name="stateName"/> of <paramref name="grainId"/> into <paramref name="grainState"/>.</summary>
    Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new();

    /// <summary>Writes <paramref name="grainState"/> if the stored ETag matches, then sets the new ETag on it.</summary>
    Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new();

    /// <summary>Deletes the record if the stored ETag matches, then resets <paramref name="grainState"/> (no record, null ETag).</summary>
    Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState, CancellationToken cancellationToken = default) where TState : new();
}

/// <summary>A storage provider failed to read, write or clear a grain's state (other than an ETag conflict).</summary>
public sealed class GrainStorageException(string message, Exception? innerException = null) : Exception(message, innerException);
