using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Granary.Grains.Online;

/// <summary>Places a grain whose string key is a silo address on that silo (per-silo service grains).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("granary.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    /// <summary>The one instance.</summary>
    public static readonly SiloPinnedPlacement Instance = new();
}

/// <summary>Marks a grain class as placed by <see cref="SiloPinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Instance);

/// <summary>Puts the activation on the silo its key names; refuses when that silo is not an active, compatible one.</summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    /// <inheritdoc/>
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var wanted = SiloAddress.FromParsableString(key);
        foreach (var silo in context.GetCompatibleSilos(target))
            if (silo.Equals(wanted)) return Task.FromResult(silo);
        throw new OrleansException($"silo {key} is not an active silo of this cluster; per-silo grains can only run on their own silo");
    }
}
