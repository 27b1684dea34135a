using Granary.Definitions;

namespace Granary.Registry;

/// <summary>
/// Durable storage of registry versions: immutable, numbered 1, 2, 3... per project, appended by compare-and-set
/// on the current version; plus the materialized intervals per feature view, which are not versioned.
/// </summary>
public interface IRegistryStore
{
    /// <summary>Creates the tables when missing. Safe to call concurrently and repeatedly.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>The current version number of <paramref name="project"/>; 0 when nothing was applied.</summary>
    Task<long> GetCurrentVersionAsync(string project, CancellationToken cancellationToken = default);

    /// <summary>The given version with its materialized intervals, or null when it does not exist.</summary>
    Task<RegistrySnapshot?> GetVersionAsync(string project, long version, CancellationToken cancellationToken = default);

    /// <summary>Every version, oldest first.</summary>
    Task<IReadOnlyList<RegistryVersionInfo>> GetHistoryAsync(string project, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="definitions"/> as version <paramref name="expectedCurrentVersion"/> + 1, only if the current
    /// version is still <paramref name="expectedCurrentVersion"/>; otherwise throws <see cref="RegistryConflictException"/>.
    /// </summary>
    /// <returns>The stored snapshot, with its version and creation time.</returns>
    Task<RegistrySnapshot> AppendVersionAsync(string project, long expectedCurrentVersion, RegistrySnapshot definitions, string summary,
        CancellationToken cancellationToken = default);

    /// <summary>Records that <paramref name="featureView"/> was materialized for <paramref name="interval"/>.</summary>
    Task AppendMaterializationIntervalAsync(string project, string featureView, MaterializationInterval interval,
        CancellationToken cancellationToken = default);

    /// <summary>The projects that have at least one version.</summary>
    Task<IReadOnlyList<string>> ListProjectsAsync(CancellationToken cancellationToken = default);
}
