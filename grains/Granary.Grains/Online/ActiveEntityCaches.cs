using System.Collections.Concurrent;

namespace Granary.Grains.Online;

/// <summary>
/// One per silo: a mailbox per entity grain active on this silo, so rows a push wrote to the online store reach the caches of
/// the grains holding those entities without a grain call per entity, and without activating idle ones (an idle entity
/// loads from the store when it activates). A grain joins on activation, before its first load, and leaves on deactivation.
/// </summary>
public sealed class ActiveEntityCaches(OnlineCacheEpochs epochs)
{
    private readonly ConcurrentDictionary<string, EntityMailbox> _active = new(StringComparer.Ordinal);

    /// <summary>Opens the mailbox of the activation of <paramref name="entity"/> (an entity canonical key) on this silo.</summary>
    public EntityMailbox Join(string entity)
    {
        var mailbox = new EntityMailbox();
        _active[entity] = mailbox;
        return mailbox;
    }

    /// <summary>Closes <paramref name="mailbox"/>; a newer activation's mailbox under the same key stays.</summary>
    public void Leave(string entity, EntityMailbox mailbox) => _active.TryRemove(KeyValuePair.Create(entity, mailbox));

    /// <summary>Posts each row to its entity's mailbox when that entity is active here; returns how many were posted.</summary>
    public int Deliver(WrittenRows written)
    {
        var posted = 0;
        for (var i = 0; i < written.Rows.Length; i++)
        {
            if (!_active.TryGetValue(written.Entities[i], out var mailbox)) continue;
            var row = written.Rows[i];
            // The epoch when the row arrives: a materialization that invalidates the view later makes the grain reload it.
            mailbox.Post(new PostedRow(row, written.Applied[i], epochs.Current(written.Project, row.FeatureView)));
            posted++;
        }
        return posted;
    }
}

/// <summary>Rows written past one entity grain, waiting for its next call (posted from any thread, taken by the grain).</summary>
public sealed class EntityMailbox
{
    private readonly Lock _lock = new();
    private List<PostedRow>? _rows;

    /// <summary>Queues a row, keeping arrival order.</summary>
    public void Post(PostedRow row)
    {
        lock (_lock) (_rows ??= []).Add(row);
    }

    /// <summary>The rows posted since the last call, in arrival order; null when none (checked without the lock first).</summary>
    public List<PostedRow>? Take()
    {
        if (Volatile.Read(ref _rows) is null) return null;
        lock (_lock)
        {
            var rows = _rows;
            _rows = null;
            return rows;
        }
    }
}

/// <summary>A written row as posted to an entity: whether the store applied it, and the view's cache epoch when it arrived.</summary>
public readonly record struct PostedRow(EntityWriteRow Row, bool Applied, long Epoch);
