using Granary.Runtime.Cluster.Ownership;

namespace Granary.Runtime.Cluster.Membership;

/// <summary>An immutable snapshot of the membership as one silo or client last read it, with the ring of its active silos.</summary>
public sealed class ClusterView
{
    /// <summary>The view before anything was read.</summary>
    public static readonly ClusterView Empty = new(-1, [], 1);

    /// <summary>Builds a view of table version <paramref name="version"/> from its rows.</summary>
    public ClusterView(int version, IReadOnlyList<MembershipEntry> members, int virtualNodesPerSilo)
    {
        Version = version;
        Members = members;
        var active = new List<SiloAddress>();
        foreach (var member in members)
        {
            if (member.Status == SiloStatus.Active) active.Add(member.Silo);
        }
        active.Sort();
        ActiveSilos = active;
        Ring = new ConsistentHashRing(active, virtualNodesPerSilo);
    }

    /// <summary>The membership table version this view was read at.</summary>
    public int Version { get; }
    /// <summary>Every row, whatever its status.</summary>
    public IReadOnlyList<MembershipEntry> Members { get; }
    /// <summary>Active silos in address order.</summary>
    public IReadOnlyList<SiloAddress> ActiveSilos { get; }
    /// <summary>The ownership ring over <see cref="ActiveSilos"/>.</summary>
    public ConsistentHashRing Ring { get; }

    /// <summary>The status of <paramref name="silo"/> in this view (None when unknown).</summary>
    public SiloStatus StatusOf(SiloAddress silo)
    {
        foreach (var member in Members)
        {
            if (member.Silo == silo) return member.Status;
        }
        return SiloStatus.None;
    }
}
