using System.Diagnostics;
using Granary.Online;
using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>Runs <see cref="IOnlineStore.CheckHealthAsync"/> on the silo it is activated on; stateless, so probes never queue behind each other.</summary>
[StatelessWorker]
[GrainType("online-store-health")]
public sealed class OnlineStoreHealthGrain(IOnlineStore store, ILocalSiloDetails silo) : Grain, IOnlineStoreHealthGrain
{
    /// <inheritdoc/>
    public async Task<OnlineStoreProbe> ProbeAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var health = await store.CheckHealthAsync(cancel.Token).WaitAsync(timeout);
            return new OnlineStoreProbe(health.Healthy, health.Latency, health.Detail, silo.SiloAddress.ToString());
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return new OnlineStoreProbe(false, clock.Elapsed, $"no answer within {timeout.TotalSeconds:0.#} s", silo.SiloAddress.ToString());
        }
        catch (Exception e)
        {
            // The driver's own exception cannot cross to the caller (Orleans may not know its type): report its text.
            return new OnlineStoreProbe(false, clock.Elapsed, e.Message, silo.SiloAddress.ToString());
        }
    }
}
