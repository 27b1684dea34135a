using System.Collections.Concurrent;
using Granary.Erasure;

namespace Granary.Grains.Erasure;

/// <summary>
/// One per silo: the erasure tombstones of each project, as push, stream ingestion and materialization consult them on
/// every row. Loaded on first use; an erasure reloads it on every active silo before it deletes anything
/// (<see cref="Online.ISiloOnlineCacheGrain.EntityErasedAsync"/>), and a set older than <see cref="RefreshAfter"/> is reloaded
/// in the background (an erasure run by another process over the same registry, a silo that joined meanwhile).
/// </summary>
public sealed class TombstoneCache(ITombstoneStore store, TimeProvider time)
{
    /// <summary>How long a loaded set is used before it is reloaded in the background.</summary>
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Entry> _projects = new(StringComparer.Ordinal);

    /// <summary>The project's tombstones; the first call loads them (throws when the registry database cannot be read).</summary>
    public ValueTask<TombstoneSet> GetAsync(string project)
    {
        if (_projects.TryGetValue(project, out var entry) && entry.Loading.IsCompletedSuccessfully)
        {
            if (time.GetUtcNow() - entry.LoadedAt > RefreshAfter) _ = ReloadQuietlyAsync(project, entry);
            return ValueTask.FromResult(entry.Loading.Result);
        }
        return new ValueTask<TombstoneSet>(LoadOrJoinAsync(project));
    }

    /// <summary>Reloads the project's tombstones now; returns once the new set is in use.</summary>
    public async Task RefreshAsync(string project)
    {
        var set = await LoadAsync(project);
        _projects[project] = new Entry(Task.FromResult(set), time.GetUtcNow());
    }

    private async Task<TombstoneSet> LoadOrJoinAsync(string project)
    {
        var entry = _projects.GetOrAdd(project, p => new Entry(LoadAsync(p), time.GetUtcNow()));
        try
        {
            return await entry.Loading;
        }
        catch
        {
            // A failed load is not kept: the next call tries again.
            _projects.TryRemove(KeyValuePair.Create(project, entry));
            throw;
        }
    }

    private async Task ReloadQuietlyAsync(string project, Entry stale)
    {
        // Only one reload per stale entry: the first caller swaps in a placeholder time.
        if (!_projects.TryUpdate(project, stale with { LoadedAt = time.GetUtcNow() }, stale)) return;
        try
        {
            await RefreshAsync(project);
        }
        catch (Exception)
        {
            // The registry database is unreachable: keep using the set held; the next stale read tries again.
        }
    }

    private async Task<TombstoneSet> LoadAsync(string project)
    {
        var secret = await store.GetErasureSecretAsync();
        return new TombstoneSet(secret, await store.ListTombstonesAsync(project));
    }

    private sealed record Entry(Task<TombstoneSet> Loading, DateTimeOffset LoadedAt);
}
