namespace Granary.Runtime.Cluster.Membership;

/// <summary>
/// Storage of the cluster's membership with versioned compare-and-set. Every insert or update is applied
/// together with the bump of the table version to <c>next</c> and fails (returns false) when the stored
/// version is not <c>next.Version - 1</c>, when an inserted row exists or when an updated row's ETag changed.
/// </summary>
public interface IMembershipTable
{
    /// <summary>Creates the storage if absent (schema, version row). Safe to call from many silos at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads every row of this cluster together with the table version.</summary>
    Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts a new row and sets the table version to <paramref name="next"/>, atomically; false on conflict.</summary>
    Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion next, CancellationToken cancellationToken = default);

    /// <summary>Replaces a row whose ETag is still <paramref name="etag"/> and sets the table version to <paramref name="next"/>, atomically; false on conflict.</summary>
    Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion next, CancellationToken cancellationToken = default);

    /// <summary>Writes the row's <see cref="MembershipEntry.IAmAliveTime"/> without checks and without a version bump.</summary>
    Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Deletes rows of Dead silos whose last IAmAlive is older than <paramref name="beforeDate"/>; returns how many.</summary>
    Task<int> CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default);
}
