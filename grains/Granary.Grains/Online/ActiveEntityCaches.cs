using System.Collections.Concurrent;
using Granary.Online;

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

    /// <summary>
    /// The cached views <paramref name="entity"/>'s activation here last published, when it is active and has no rows
    /// waiting to be taken in (those only the grain applies); a grouped read serves them without a call to the grain.
    /// </summary>
    public bool TryGetCached(string entity, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Dictionary<string, CachedView>? views)
    {
        views = _active.TryGetValue(entity, out var mailbox) && !mailbox.HasPosted ? mailbox.Published : null;
        return views is not null;
    }

    /// <summary>
    /// Drops <paramref name="views"/> from the cache of <paramref name="entity"/>'s grain when it is active here (erasure):
    /// each view is posted as a row the store did not apply, which makes the grain forget the view and reload it from the
    /// store on its next read; until then a grouped read goes through the grain (rows are waiting). False when not active here.
    /// </summary>
    public bool Evict(string project, string entity, string[] views)
    {
        if (!_active.TryGetValue(entity, out var mailbox)) return false;
        foreach (var view in views)
            mailbox.Post(new PostedRow(new EntityWriteRow(view, 0, long.MinValue, [], []), Applied: false, epochs.Current(project, view)));
        return true;
    }

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

/// <summary>
/// Between one entity grain and the rest of its silo: rows written past it, waiting for its next call (posted from any
/// thread, taken by the grain), and the grain's cached views as it last published them (read from any thread).
/// </summary>
public sealed class EntityMailbox
{
    private readonly Lock _lock = new();
    private List<PostedRow>? _rows;
    private Dictionary<string, CachedView>? _published;

    /// <summary>The grain's cached views by view name; never changed once published (the grain publishes a new dictionary).</summary>
    public Dictionary<string, CachedView>? Published => Volatile.Read(ref _published);

    /// <summary>Whether rows are waiting to be taken.</summary>
    public bool HasPosted => Volatile.Read(ref _rows) is not null;

    /// <summary>Publishes the grain's cached views; the caller never changes <paramref name="views"/> afterwards.</summary>
    public void Publish(Dictionary<string, CachedView> views) => Volatile.Write(ref _published, views);

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

/// <summary>A view's newest row as an entity grain caches it (null: the store has none), and the view's cache epoch when loaded.</summary>
public sealed record CachedView(OnlineRow? Row, long Epoch);

/// <summary>A written row as posted to an entity: whether the store applied it, and the view's cache epoch when it arrived.</summary>
public readonly record struct PostedRow(EntityWriteRow Row, bool Applied, long Epoch);
