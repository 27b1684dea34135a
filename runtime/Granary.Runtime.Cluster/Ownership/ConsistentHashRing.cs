using System.Globalization;
using Granary.Runtime.Cluster.Membership;

namespace Granary.Runtime.Cluster.Ownership;

/// <summary>
/// Consistent hashing over the active silos: each silo owns <c>virtualNodes</c> points on a 64-bit ring, and a
/// grain belongs to the silo of the first point at or after the grain's hash (wrapping). Removing a silo moves
/// only that silo's ranges. Immutable: a new ring is built for each membership view.
/// </summary>
public sealed class ConsistentHashRing
{
    private readonly ulong[] _points;
    private readonly SiloAddress[] _owners;

    /// <summary>An empty ring (no active silo).</summary>
    public static readonly ConsistentHashRing Empty = new([], 1);

    /// <summary>Builds the ring of <paramref name="silos"/> with <paramref name="virtualNodes"/> points each.</summary>
    public ConsistentHashRing(IEnumerable<SiloAddress> silos, int virtualNodes)
    {
        var members = silos.Distinct().Order().ToArray();
        Silos = members;
        var points = new List<(ulong Point, SiloAddress Silo)>(members.Length * virtualNodes);
        foreach (var silo in members)
        {
            var endpoint = string.Create(CultureInfo.InvariantCulture, $"{silo.Host}:{silo.Port}");
            for (var i = 0; i < virtualNodes; i++)
            {
                points.Add((StableHash.Of("silo", endpoint, (silo.Generation * 1000) + i), silo));
            }
        }
        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Silo.CompareTo(b.Silo));
        _points = points.Select(p => p.Point).ToArray();
        _owners = points.Select(p => p.Silo).ToArray();
    }

    /// <summary>The silos on the ring, in address order.</summary>
    public IReadOnlyList<SiloAddress> Silos { get; }

    /// <summary>The silo owning <paramref name="grain"/>; null when the ring is empty.</summary>
    public SiloAddress? OwnerOf(GrainId grain) => OwnerOf(StableHash.Of(grain));

    /// <summary>The silo owning ring position <paramref name="hash"/>; null when the ring is empty.</summary>
    public SiloAddress? OwnerOf(ulong hash)
    {
        if (_points.Length == 0) return null;
        var index = Array.BinarySearch(_points, hash);
        if (index < 0) index = ~index;
        if (index == _points.Length) index = 0;
        return _owners[index];
    }
}
