namespace Granary.Grains.Online;

/// <summary>
/// Probes the online store from a silo (a stateless worker, activated on the silo a call reaches; key 0): how a gateway
/// that runs as a cluster client, and so holds no store of its own, learns whether the store answers.
/// </summary>
[Alias("granary.online-store-health")]
public interface IOnlineStoreHealthGrain : IGrainWithIntegerKey
{
    /// <summary>Runs the store's own health check, giving up after <paramref name="timeout"/> (then unhealthy, naming the wait).</summary>
    [Alias("probe")]
    Task<OnlineStoreProbe> ProbeAsync(TimeSpan timeout);
}

/// <summary>What one probe found.</summary>
/// <param name="Healthy">Whether the store answered in time.</param>
/// <param name="Latency">How long the probe took.</param>
/// <param name="Detail">The store's own description: its kind and address, or why it failed.</param>
/// <param name="Silo">The silo that probed (its address).</param>
[GenerateSerializer, Immutable, Alias("granary.OnlineStoreProbe")]
public sealed record OnlineStoreProbe([property: Id(0)] bool Healthy, [property: Id(1)] TimeSpan Latency, [property: Id(2)] string Detail, [property: Id(3)] string Silo);
