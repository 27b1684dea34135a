using Granary.Grains.Registry;
using Granary.FeatureHealth;
using Granary.Offline;
using Granary.Repository;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;

namespace Granary.Grains.Health;

/// <summary>
/// Appends logged feature vectors to the offline store (the view's log folder, see <see cref="FeatureLogTable"/>), typed
/// by the view's schema in the current registry version. Stateless: any silo, several activations.
/// </summary>
[GrainType("feature-log"), StatelessWorker]
public sealed class FeatureLogGrain(RegistryCache registry, IEnumerable<IOfflineStore> offlineStores, IServiceProvider services, Erasure.TombstoneCache tombstones)
    : Grain, IFeatureLogGrain
{
    private FeatureLoggingConfig Config => services.GetService<RepositoryConfig>()?.FeatureLogging ?? new FeatureLoggingConfig();

    /// <inheritdoc/>
    public Task<FeatureLogSettings> GetSettingsAsync()
    {
        var config = Config;
        return Task.FromResult(new FeatureLogSettings(config.SampleRate, new Dictionary<string, double>(config.Services, StringComparer.Ordinal),
            config.QueueCapacity, config.BatchSize, config.FlushEvery));
    }

    /// <inheritdoc/>
    public async Task<long> AppendAsync(FeatureLogBatch batch)
    {
        var snapshot = await registry.GetAsync(this.GetPrimaryKeyString());
        // A view removed since it was served: its rows have nowhere typed to go.
        if (snapshot.FindFeatureView(batch.FeatureView) is not { } view || batch.Rows.Length == 0) return 0;
        var source = FeatureLogTable.SourceOf(Config.Path, view.Name);
        var store = offlineStores.FirstOrDefault(s => s.CanRead(source))
            ?? throw new OfflineAppendException("no offline store of this silo writes file sources, so served features cannot be logged");
        // Rows served before an erasure of their entity and flushed after it stay out of the log.
        var served = Erasure.ErasedLogRows.Unerased(await tombstones.GetAsync(snapshot.Project), snapshot.Project, batch);
        var rows = FeatureLogTable.Batch(snapshot, view, batch.JoinKeys, batch.Features,
            served.Select(r => (r.RequestTime, r.FeatureService, r.JoinKeyValues, r.Values, r.Statuses)));
        return await Task.Run(() => store.AppendRowsAsync(source, rows));
    }
}
