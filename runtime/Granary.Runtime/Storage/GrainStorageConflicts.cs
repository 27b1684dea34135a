namespace Granary.Runtime.Storage;

/// <summary>Builds the ETag-conflict errors every storage provider raises, so they read the same everywhere.</summary>
public static class GrainStorageConflicts
{
    /// <summary>The error for a write or clear whose ETag does not match the stored one.</summary>
    public static InconsistentStateException EtagMismatch(string operation, string providerName, string stateName, GrainId grainId, string? storedEtag, string? currentEtag)
        => new(
            $"{operation} of state '{stateName}' of grain {grainId} in storage '{providerName}' was refused: storage holds ETag " +
            $"{Show(storedEtag)} but the writer had {Show(currentEtag)}. Another activation or writer changed it first; " +
            "call ReadStateAsync, re-apply the change and write again.",
            storedEtag,
            currentEtag);

    private static string Show(string? etag) => etag is null ? "none (no record)" : $"'{etag}'";
}
