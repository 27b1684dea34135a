using Granary.Offline;

namespace Granary.Offline;

/// <summary>Picks the offline store that reads every source of a plan (one retrieval runs in one engine).</summary>
public sealed class OfflineStoreSelector(IEnumerable<IOfflineStore> stores)
{
    private readonly IReadOnlyList<IOfflineStore> _stores = stores.ToList();

    /// <summary>The first store that reads all of the plan's sources; throws naming the sources otherwise.</summary>
    public IOfflineStore For(HistoricalRetrievalPlan plan)
    {
        foreach (var store in _stores)
        {
            if (plan.Views.All(v => store.CanRead(v.Source))) return store;
        }
        var sources = string.Join(", ", plan.Views.Select(v => $"{v.View.Name} reads {v.Source.GetType().Name.Replace("Source", "", StringComparison.Ordinal).ToLowerInvariant()} source '{v.Source.Name}'"));
        throw new HistoricalRetrievalException(_stores.Count == 0
            ? "no offline store is configured in this silo"
            : $"no single configured offline store reads all requested views ({sources}); request views of one source kind per retrieval");
    }
}
