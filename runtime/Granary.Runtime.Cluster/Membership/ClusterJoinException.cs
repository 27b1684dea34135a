namespace Granary.Runtime.Cluster.Membership;

/// <summary>Thrown when a starting silo gave up joining because some active, non-stale silos stayed unreachable.</summary>
public sealed class ClusterJoinException : Exception
{
    /// <summary>Creates the exception for <paramref name="silo"/>, naming the silos it could not reach.</summary>
    public ClusterJoinException(SiloAddress silo, IReadOnlyList<SiloAddress> unreachableSilos, string message) : base(message)
    {
        Silo = silo;
        UnreachableSilos = unreachableSilos;
    }

    /// <summary>The silo that failed to join (its membership row is Dead).</summary>
    public SiloAddress Silo { get; }

    /// <summary>The active silos it could not ping within MaxJoinAttemptTime.</summary>
    public IReadOnlyList<SiloAddress> UnreachableSilos { get; }
}
