using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Online;
using Granary.Push;
using Granary.Quality;
using Orleans.Concurrency;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Grains.Quality;

/// <summary>The quarantine of one project over the registry database's quarantine table; releases go through the write paths.</summary>
[GrainType("quarantine"), StatelessWorker, Reentrant]
public sealed class QuarantineGrain(IQuarantineStore store, IOnlineStore onlineStore, RegistryCache registry) : Grain, IQuarantineGrain
{
    private string Project => this.GetPrimaryKeyString();

    /// <inheritdoc/>
    public Task<IReadOnlyList<QuarantinedRow>> ListAsync(string? featureView, int limit) => store.ListQuarantinedAsync(Project, featureView, limit);

    /// <inheritdoc/>
    public async Task<QuarantineCount[]> CountAsync()
        => (await store.CountQuarantinedAsync(Project)).Select(c => new QuarantineCount(c.FeatureView, c.Rule, c.Count)).ToArray();

    /// <inheritdoc/>
    public Task<QuarantinedRow?> GetAsync(long id) => store.GetQuarantinedAsync(Project, id);

    /// <inheritdoc/>
    public async Task<QuarantineRelease> ReleaseAsync(long id)
    {
        var entry = await store.GetQuarantinedAsync(Project, id)
            ?? throw new QuarantineEntryNotFoundException($"project '{Project}' has no quarantine entry {id}");
        var (columns, values) = QuarantinedRows.Parse(entry.Row);
        QuarantineRelease released;
        if (entry.Source == MaterializationPartitionGrain.QuarantineSource)
        {
            var applied = await WriteOnlineAsync(entry, columns, values);
            released = new QuarantineRelease(id, entry.FeatureView, entry.Rule, applied, 0, false);
        }
        else
        {
            var result = await GrainFactory.GetGrain<IPushGrain>($"{Project}/{entry.Source}").PushAsync(
                new PushRequest(columns, [values], PushMode.OnlineAndOffline) { ReleasedRules = [PushRules.Qualified(entry.FeatureView, entry.Rule)] });
            released = new QuarantineRelease(id, entry.FeatureView, entry.Rule, result.OnlineRowsApplied, result.OfflineRowsAppended, result.RowsQuarantined > 0);
        }
        await store.DeleteQuarantinedAsync(Project, id);
        return released;
    }

    /// <inheritdoc/>
    public Task<bool> DropAsync(long id) => store.DeleteQuarantinedAsync(Project, id);

    /// <summary>A materialization row written online as materialization writes it (newest wins), then every silo's cache of the view refreshed.</summary>
    private async Task<int> WriteOnlineAsync(QuarantinedRow entry, string[] columns, object?[] values)
    {
        var snapshot = await registry.GetAsync(Project);
        var view = snapshot.FeatureViews.FirstOrDefault(v => v.Name == entry.FeatureView)
            ?? throw new QuarantineEntryNotFoundException($"quarantine entry {entry.Id} belongs to feature view '{entry.FeatureView}', which project '{Project}' no longer has; drop it");
        var at = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Length; i++) at[columns[i]] = values[i];
        object? Typed(string column, ValueType type)
        {
            if (!PushValues.TryConvert(at.GetValueOrDefault(column), type, out var value, out var problem))
                throw new PushDefinitionException($"quarantine entry {entry.Id}: '{column}' {problem}; expected {type}", "drop the entry");
            return value;
        }
        var keys = view.Entities.Select(e => snapshot.FindEntity(e)!).Select(e => new KeyValuePair<string, object>(e.JoinKey, Typed(e.JoinKey, e.ValueType)!));
        var timestamp = new ValueType(ScalarType.UnixTimestamp);
        var features = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var f in view.Features) features[f.Name] = Typed(f.Name, f.Type);
        var row = new OnlineRow(EntityKey.FromValues(Project, keys), view.Name, (DateTimeOffset)Typed(QuarantinedRows.EventTimestamp, timestamp)!,
            (DateTimeOffset?)Typed(QuarantinedRows.CreatedTimestamp, timestamp), features);
        var outcome = await onlineStore.WriteAsync([row]);
        var silos = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        await Task.WhenAll(silos.Keys.Select(silo => GrainFactory.GetGrain<ISiloOnlineCacheGrain>(silo.ToParsableString()).InvalidateAsync(Project, [view.Name])));
        return outcome[0] == OnlineWriteOutcome.Applied ? 1 : 0;
    }
}
