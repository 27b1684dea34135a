using Granary.Audit;

namespace Granary.Grains.Audit;

/// <summary>
/// The cluster's one audit-log writer (key <see cref="Key"/>): it numbers and chains the entries it is given and stores
/// them, so the hash chain has one author. Gateways batch their requests' entries into one call (group commit).
/// </summary>
[Alias("granary.audit")]
public interface IAuditGrain : IGrainWithIntegerKey
{
    /// <summary>The grain's key.</summary>
    const long Key = 0;

    /// <summary>Chains and stores <paramref name="entries"/> in one transaction; returns once they are stored, with the last sequence number.</summary>
    [Alias("append")]
    Task<long> AppendAsync(IReadOnlyList<AuditEntry> entries);
}
