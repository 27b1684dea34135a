using System.Collections.Concurrent;

namespace Granary.Grains.Online;

/// <summary>
/// One per silo: a counter per (project, feature view) that moves whenever the view's online rows changed outside the entity
/// grains (a materialization run). An entity grain remembers the epoch it loaded a view at and reloads the view when the
/// epoch moved, so a read after <c>materialize</c> returns never answers from a cache older than the run.
/// </summary>
public sealed class OnlineCacheEpochs
{
    private readonly ConcurrentDictionary<(string Project, string View), long> _epochs = new();

    /// <summary>The current epoch of a view (0 until first invalidated).</summary>
    public long Current(string project, string view) => _epochs.TryGetValue((project, view), out var epoch) ? epoch : 0;

    /// <summary>Moves the epoch of each view, invalidating what entity grains cached of it.</summary>
    public void Invalidate(string project, IEnumerable<string> views)
    {
        foreach (var view in views) _epochs.AddOrUpdate((project, view), 1, (_, e) => e + 1);
    }
}
