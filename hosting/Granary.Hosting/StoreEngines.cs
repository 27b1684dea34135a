using Granary.Offline;
using Granary.Stores;
using Microsoft.Extensions.Options;

namespace Granary.Hosting;

/// <summary>Picks, among the store engines the host registered, the one granary.yaml names, and hands it its settings.</summary>
internal static class StoreEngines
{
    /// <summary>The engine serving <paramref name="kind"/>; fails naming the kind, the role and the fix when the host has none.</summary>
    public static TProvider Pick<TProvider, TKind>(IEnumerable<TProvider> engines, Func<TProvider, TKind> kindOf, TKind kind, string role)
        where TKind : struct, Enum
    {
        var all = engines.ToList();
        return all.FirstOrDefault(e => kindOf(e).Equals(kind)) ?? throw new InvalidOperationException(
            $"{role} type '{kind.ToString().ToLowerInvariant()}' has no engine in this host (it has: " +
            $"{(all.Count == 0 ? "none" : string.Join(", ", all.Select(e => kindOf(e).ToString().ToLowerInvariant())))}); " +
            $"register that engine in the host (Granary.Silo and the CLI register every engine), or set another {role} type in granary.yaml");
    }

    /// <summary>A store's settings from the options: its path resolved against the repository root.</summary>
    public static StoreSettings Settings<TKind>(GranaryOptions options, StoreOptions<TKind> store, TimeProvider time) where TKind : struct, Enum => new()
    {
        RepositoryRoot = options.RepositoryRoot,
        Path = store.Path is { Length: > 0 } path ? options.Resolve(path) : null,
        ConnectionString = store.ConnectionString,
        KeyTtl = options.OnlineKeyTtl,
        Time = time,
    };
}

/// <summary>The offline stores a host runs: every registered engine that reads file sources, plus the configured kind's. Disposes them.</summary>
internal sealed class OfflineStores : IDisposable
{
    public OfflineStores(IEnumerable<IOfflineStoreProvider> engines, IOptions<GranaryOptions> options, TimeProvider time)
    {
        var o = options.Value;
        var all = engines.ToList();
        var chosen = all.Where(e => e.ServesFileSources).ToList();
        if (!chosen.Any(e => e.Kind == o.OfflineStore.Kind))
            chosen.Add(StoreEngines.Pick(all, e => e.Kind, o.OfflineStore.Kind, "offline_store"));
        var settings = StoreEngines.Settings(o, o.OfflineStore, time);
        All = chosen.Select(e => e.Create(settings)).ToList();
    }

    /// <summary>The stores, file-source engines first.</summary>
    public IReadOnlyList<IOfflineStore> All { get; }

    public void Dispose()
    {
        foreach (var store in All) (store as IDisposable)?.Dispose();
    }
}
