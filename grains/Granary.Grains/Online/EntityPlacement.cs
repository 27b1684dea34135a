using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Granary.Grains.Online;

/// <summary>
/// Places an entity grain on the silo its key hashes to among the active silos (<see cref="EntityOwners.Owner"/>), so a
/// grouped read (<see cref="IOnlineReadGrain"/>) knows, without asking the directory, which silo holds or will hold it.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("granary.EntityPlacement")]
public sealed class EntityPlacement : PlacementStrategy
{
    /// <summary>The one instance.</summary>
    public static readonly EntityPlacement Instance = new();
}

/// <summary>Marks a grain class as placed by <see cref="EntityPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class EntityPlacementAttribute() : PlacementAttribute(EntityPlacement.Instance);

/// <summary>Puts an entity grain's activation on its key's owner among the compatible silos.</summary>
public sealed class EntityPlacementDirector : IPlacementDirector
{
    /// <inheritdoc/>
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
        => Task.FromResult(EntityOwners.Owner(target.GrainIdentity.Key.ToString()!, context.GetCompatibleSilos(target)));
}

/// <summary>
/// Which silo owns an entity key: rendezvous hashing of the key over the silos, so every silo that sees the same
/// members agrees, and when a silo leaves only its own entities move. A grouped read made while views of the
/// membership differ still answers rightly; an entity found elsewhere is read through its grain.
/// </summary>
public sealed class EntityOwners(IClusterMembershipService membership)
{
    private ActiveSilos? _active;

    /// <summary>The active silos, as this silo's membership view has them (rebuilt only when the view changes).</summary>
    public SiloAddress[] Active()
    {
        var snapshot = membership.CurrentSnapshot;
        if (_active is { } cached && cached.Version == snapshot.Version) return cached.Silos;
        var silos = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToArray();
        _active = new ActiveSilos(snapshot.Version, silos);
        return silos;
    }

    /// <summary>The owner of <paramref name="entity"/> (an entity canonical key) among <paramref name="silos"/> (not empty).</summary>
    public static SiloAddress Owner(string entity, IReadOnlyList<SiloAddress> silos) => silos[OwnerIndex(KeyHash(entity), silos)];

    /// <summary>The index in <paramref name="silos"/> of the owner of the key whose <see cref="KeyHash"/> is <paramref name="keyHash"/>.</summary>
    public static int OwnerIndex(ulong keyHash, IReadOnlyList<SiloAddress> silos)
    {
        var best = 0;
        var bestScore = 0UL;
        for (var s = 0; s < silos.Count; s++)
        {
            var score = Mix(keyHash ^ (uint)silos[s].GetConsistentHashCode());
            if (s == 0 || score > bestScore) (best, bestScore) = (s, score);
        }
        return best;
    }

    /// <summary>A hash of the key that is the same in every process (FNV-1a over its characters).</summary>
    public static ulong KeyHash(string entity)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in entity) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }

    // SplitMix64's finalizer: spreads the combined bits so every silo gets an even share of keys.
    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private sealed record ActiveSilos(MembershipVersion Version, SiloAddress[] Silos);
}
