using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>
/// The per-silo end of cache upkeep and of grouped reads: moves this silo's <see cref="OnlineCacheEpochs"/>, hands written
/// rows to its active entity grains, and reads a group of entities from their caches.
/// </summary>
// Reentrant: every call only touches thread-safe silo services, so pushes and reads from many callers need not queue here.
[SiloPinnedPlacement, Reentrant]
[GrainType("silo-online-cache")]
public sealed class SiloOnlineCacheGrain(OnlineCacheEpochs epochs, ActiveEntityCaches caches, EntityCacheReader reader, Erasure.TombstoneCache tombstones)
    : Grain, ISiloOnlineCacheGrain
{
    /// <inheritdoc/>
    public Task<EntityBatchReply> ReadAsync(EntityBatchRead read) => reader.ReadAsync(read, GrainFactory);

    /// <inheritdoc/>
    public Task InvalidateAsync(string project, string[] views)
    {
        epochs.Invalidate(project, views);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<bool> EntityErasedAsync(string project, string entity, string[] views)
    {
        await tombstones.RefreshAsync(project);
        return caches.Evict(project, entity, views);
    }

    /// <inheritdoc/>
    public Task RowsWrittenAsync(WrittenRows written)
    {
        caches.Deliver(written);
        return Task.CompletedTask;
    }
}
