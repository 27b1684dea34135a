using System.Diagnostics.Metrics;
using Granary.Runtime.Cluster.Membership;

namespace Granary.Runtime.Cluster.Diagnostics;

/// <summary>
/// The cluster layer's instruments, created on the runtime's meter (<c>Granary.Runtime</c>, one per silo or client) so
/// one listener sees runtime and cluster figures together.
/// </summary>
public sealed class ClusterInstruments
{
    private long _expiredDropped;

    /// <summary>Creates the instruments on <paramref name="meter"/>; <paramref name="view"/> feeds the active-silos gauge.</summary>
    public ClusterInstruments(Meter meter, Func<ClusterView> view)
    {
        MessagesSent = meter.CreateCounter<long>("granary-cluster-messages-sent", description: "Grain requests sent to other silos (forwards included).");
        MessagesReceived = meter.CreateCounter<long>("granary-cluster-messages-received", description: "Grain requests received from other silos or clients.");
        MessagesExpired = meter.CreateCounter<long>("granary-cluster-messages-expired", description: "Received grain requests dropped because they had expired.");
        MessagesForwarded = meter.CreateCounter<long>("granary-cluster-messages-forwarded", description: "Received grain requests forwarded to the silo owning the grain.");
        SiloUnavailable = meter.CreateCounter<long>("granary-cluster-silo-unavailable", description: "Calls failed with SiloUnavailableException at the caller.");
        MembershipChanges = meter.CreateCounter<long>("granary-cluster-membership-changes", description: "New membership views read from the table.");
        DeathsDeclared = meter.CreateCounter<long>("granary-cluster-silos-declared-dead", description: "Silos this silo wrote Dead in the membership table (its vote completed the quorum).");
        meter.CreateObservableGauge("granary-cluster-active-silos", () => view().ActiveSilos.Count, description: "Active silos in the current membership view.");
    }

    /// <summary><c>granary-cluster-messages-sent</c>.</summary>
    public Counter<long> MessagesSent { get; }
    /// <summary><c>granary-cluster-messages-received</c>.</summary>
    public Counter<long> MessagesReceived { get; }
    /// <summary><c>granary-cluster-messages-expired</c>.</summary>
    public Counter<long> MessagesExpired { get; }
    /// <summary><c>granary-cluster-messages-forwarded</c>.</summary>
    public Counter<long> MessagesForwarded { get; }
    /// <summary><c>granary-cluster-silo-unavailable</c>.</summary>
    public Counter<long> SiloUnavailable { get; }
    /// <summary><c>granary-cluster-membership-changes</c>.</summary>
    public Counter<long> MembershipChanges { get; }
    /// <summary><c>granary-cluster-silos-declared-dead</c>.</summary>
    public Counter<long> DeathsDeclared { get; }

    /// <summary>Received requests dropped as expired since start (the total behind <see cref="MessagesExpired"/>).</summary>
    public long ExpiredDropped => Interlocked.Read(ref _expiredDropped);

    internal void RecordExpired()
    {
        Interlocked.Increment(ref _expiredDropped);
        MessagesExpired.Add(1);
    }

    /// <summary>Counts a call failure when it is a <see cref="SiloUnavailableException"/>.</summary>
    internal void RecordFailure(Exception exception)
    {
        if (exception is SiloUnavailableException) SiloUnavailable.Add(1);
    }
}
