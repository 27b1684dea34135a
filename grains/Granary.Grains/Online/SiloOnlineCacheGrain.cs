using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>The per-silo end of cache upkeep: moves this silo's <see cref="OnlineCacheEpochs"/> and hands written rows to its active entity grains.</summary>
// Reentrant: both calls only touch thread-safe silo services, so pushes from many push grains need not queue here.
[SiloPinnedPlacement, Reentrant]
[GrainType("silo-online-cache")]
public sealed class SiloOnlineCacheGrain(OnlineCacheEpochs epochs, ActiveEntityCaches caches) : Grain, ISiloOnlineCacheGrain
{
    /// <inheritdoc/>
    public Task InvalidateAsync(string project, string[] views)
    {
        epochs.Invalidate(project, views);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task RowsWrittenAsync(WrittenRows written)
    {
        caches.Deliver(written);
        return Task.CompletedTask;
    }
}
