namespace Granary.Runtime;

/// <summary>One piece of grain state, loaded before <c>OnActivateAsync</c> and written with ETag compare-and-set.</summary>
public interface IPersistentState<TState> where TState : new()
{
    /// <summary>The current value; a new <typeparamref name="TState"/> when no record exists.</summary>
    TState State { get; set; }
    /// <summary>The version token of the stored record; null when nothing was stored.</summary>
    string? Etag { get; }
    /// <summary>Whether a record exists in storage.</summary>
    bool RecordExists { get; }
    /// <summary>Reloads the state from storage.</summary>
    Task ReadStateAsync(CancellationToken cancellationToken = default);
    /// <summary>Writes the state if the stored ETag still matches; throws <see cref="InconsistentStateException"/> otherwise.</summary>
    Task WriteStateAsync(CancellationToken cancellationToken = default);
    /// <summary>Deletes the stored record if the stored ETag still matches and resets <see cref="State"/>.</summary>
    Task ClearStateAsync(CancellationToken cancellationToken = default);
}

/// <summary>A write or clear found a different ETag in storage than the one it was based on: someone else wrote first.</summary>
public sealed class InconsistentStateException(string message, string? storedEtag, string? currentEtag) : Exception(message)
{
    /// <summary>The ETag found in storage (null when no record).</summary>
    public string? StoredEtag { get; } = storedEtag;
    /// <summary>The ETag the writer held.</summary>
    public string? CurrentEtag { get; } = currentEtag;
}
