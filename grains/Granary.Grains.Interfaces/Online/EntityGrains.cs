using Orleans.Runtime;

namespace Granary.Grains.Online;

/// <summary>
/// Entity grain references by key. <c>GetGrain&lt;IEntityGrain&gt;(key)</c> resolves the interface's grain type on every
/// call (a few percent of a 100-entity read); here it is resolved once, and each reference is built from its GrainId.
/// </summary>
public static class EntityGrains
{
    // A class, so concurrent callers publish it with one reference write.
    private static EntityGrainType? _type;

    /// <summary>The entity grain of <paramref name="canonical"/> (an entity canonical key).</summary>
    public static IEntityGrain Get(IGrainFactory grains, string canonical)
    {
        if (_type is not { } type)
        {
            var sample = (GrainReference)(object)grains.GetGrain<IEntityGrain>(canonical);
            _type = new EntityGrainType(sample.GrainId.Type, sample.InterfaceType);
            return (IEntityGrain)sample;
        }
        return (IEntityGrain)grains.GetGrain(GrainId.Create(type.Type, canonical), type.Interface);
    }

    private sealed record EntityGrainType(GrainType Type, GrainInterfaceType Interface);
}
