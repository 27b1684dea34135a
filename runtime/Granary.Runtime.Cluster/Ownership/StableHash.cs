namespace Granary.Runtime.Cluster.Ownership;

/// <summary>A hash that is the same in every process and run (string.GetHashCode is randomized per process).</summary>
public static class StableHash
{
    /// <summary>64-bit FNV-1a over the UTF-16 code units of the parts, separated, then mixed (MurmurHash3's finalizer) to spread nearby inputs.</summary>
    public static ulong Of(string first, string second, long third = 0)
    {
        var hash = 14695981039346656037UL;
        hash = Add(hash, first);
        hash = (hash ^ '/') * 1099511628211UL;
        hash = Add(hash, second);
        hash = (hash ^ (ulong)third) * 1099511628211UL;
        return Mix(hash);
    }

    /// <summary>The hash of a grain identity, used to place it on the ring.</summary>
    public static ulong Of(GrainId grain) => Of(grain.Type, grain.Key);

    private static ulong Add(ulong hash, string text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }

    private static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
