namespace Granary.Grains.Online;

/// <summary>The per-silo end of cache invalidation: moves this silo's <see cref="OnlineCacheEpochs"/>.</summary>
[SiloPinnedPlacement]
[GrainType("silo-online-cache")]
public sealed class SiloOnlineCacheGrain(OnlineCacheEpochs epochs) : Grain, ISiloOnlineCacheGrain
{
    /// <inheritdoc/>
    public Task InvalidateAsync(string project, string[] views)
    {
        epochs.Invalidate(project, views);
        return Task.CompletedTask;
    }
}
