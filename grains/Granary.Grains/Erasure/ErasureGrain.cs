using Granary.Audit;
using Granary.Definitions;
using Granary.Erasure;
using Granary.FeatureHealth;
using Granary.Grains.Audit;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Online;
using Granary.Repository;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Granary.Grains.Erasure;

/// <summary>
/// Runs an erasure on the silo that receives it, in an order that lets nothing come back: tombstones first (stored, then
/// loaded by every active silo, so from then on every push, stream event and materialization drops the entity's old rows),
/// then the online store, then every silo's entity cache, then the offline rows Granary wrote and the feature logs, and
/// last the audit records (one per view, with the counts and the key's hash, never a value or the key).
/// </summary>
[GrainType("erasure"), StatelessWorker]
public sealed partial class ErasureGrain(
    IOnlineStore onlineStore, IEnumerable<IOfflineStore> offlineStores, ITombstoneStore tombstones, RegistryCache registry,
    IClusterMembershipService membership, IServiceProvider services, TimeProvider time, ILogger<ErasureGrain> logger)
    : Grain, IErasureGrain
{
    /// <inheritdoc/>
    public async Task<ErasureReport> EraseAsync(ErasureRequest request)
    {
        var project = this.GetPrimaryKeyString();
        var snapshot = await registry.GetAsync(project);
        var plan = ErasurePlan.For(snapshot, request.JoinKeys.Select((k, i) => new KeyValuePair<string, string>(k, request.Values[i])).ToList(), request.Views);
        var views = plan.Targets.Select(t => t.View.Name).ToArray();
        var erasedAt = time.GetUtcNow();
        var keyHash = EntityKeyHash.Of(await tombstones.GetErasureSecretAsync(), plan.Entity);

        await tombstones.RecordTombstonesAsync(views.Select(v => new Tombstone(project, v, keyHash, erasedAt)).ToList());
        // Every silo loads the new tombstones before anything is deleted: a write racing the erasure is dropped, not restored.
        await TellSilosAsync(project, plan.Entity, views);

        var places = new List<ErasedPlace>();
        var online = views.Where(v => snapshot.FindFeatureView(v)!.Online).ToList();
        if (online.Count > 0)
        {
            var deleted = await onlineStore.DeleteEntityAsync(plan.Entity, online);
            places.Add(new ErasedPlace(ErasedPlace.OnlineStore, string.Join(",", online), OnlineKind(), deleted, [.. online]));
        }
        // After the delete: a cache dropped now reloads nothing.
        var (silos, cached) = await TellSilosAsync(project, plan.Entity, views);

        foreach (var group in plan.Targets.GroupBy(t => t.BatchSource.Name, StringComparer.Ordinal))
        {
            var target = group.First();
            var groupViews = group.Select(t => t.View.Name).ToArray();
            if (!target.GranaryWrites)
            {
                places.Add(new ErasedPlace(ErasedPlace.Upstream, target.BatchSource.Name, LocationOf(target.BatchSource), 0, groupViews));
                continue;
            }
            var store = StoreFor(target.BatchSource);
            var rows = await store.DeleteRowsAsync(target.BatchSource, target.StoredKey);
            places.Add(new ErasedPlace(ErasedPlace.OfflineStore, target.BatchSource.Name, LocationOf(target.BatchSource), rows, groupViews));
        }

        var logFolder = services.GetService<RepositoryConfig>()?.FeatureLogging.Path ?? new FeatureLoggingConfig().Path;
        foreach (var target in plan.Targets)
        {
            var log = FeatureLogTable.SourceOf(logFolder, target.View.Name);
            if (offlineStores.FirstOrDefault(s => s.CanRead(log)) is not { } logStore) continue;
            var rows = await logStore.DeleteRowsAsync(log, plan.Key);
            places.Add(new ErasedPlace(ErasedPlace.FeatureLog, target.View.Name, LocationOf(log), rows, [target.View.Name]));
        }

        var report = new ErasureReport(project, keyHash, erasedAt, views, [.. places], silos, cached);
        await AuditAsync(report, request.Caller);
        LogErased(logger, project, views.Length, keyHash);
        return report;
    }

    /// <summary>Tells every active silo (tombstones reloaded, the entity's cache dropped); a silo that cannot be told fails the erasure, unless it left.</summary>
    private async Task<(int Silos, int Cached)> TellSilosAsync(string project, EntityKey entity, string[] views)
    {
        var silos = ActiveSilos();
        var calls = silos.Select(s => GrainFactory.GetGrain<ISiloOnlineCacheGrain>(s.ToParsableString()).EntityErasedAsync(project, entity.Canonical, views)).ToArray();
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception)
        {
            var active = ActiveSilos();
            var untold = silos.Where((silo, i) => !calls[i].IsCompletedSuccessfully && active.Contains(silo)).ToList();
            if (untold.Count > 0)
            {
                var cause = calls.First(c => c.IsFaulted).Exception!.InnerException!;
                throw new OnlineStoreUnavailableException(
                    $"silo {untold[0]} could not be told of the erasure ({cause.GetType().Name}: {cause.Message}); the erasure is not complete; run it again");
            }
        }
        return (calls.Count(c => c.IsCompletedSuccessfully), calls.Count(c => c.IsCompletedSuccessfully && c.Result));
    }

    private List<SiloAddress> ActiveSilos()
        => membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();

    private IOfflineStore StoreFor(DataSource source)
        => offlineStores.FirstOrDefault(s => s.CanRead(source))
           ?? throw new OfflineAppendException($"no configured offline store writes source '{source.Name}' ({OfflineSources.KindOf(source)}), so its pushed rows cannot be erased",
               "configure the offline store of that source kind in granary.yaml");

    private string OnlineKind() => onlineStore.GetType().Name.Replace("OnlineStore", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>Where a source's rows are, for the report: a Parquet path or a PostgreSQL table or query.</summary>
    public static string LocationOf(DataSource source) => source switch
    {
        FileSource f => $"parquet {f.Path}",
        PostgresSource { Table: { Length: > 0 } table } => $"postgres table {table}",
        PostgresSource => "postgres query",
        _ => OfflineSources.KindOf(source),
    };

    /// <summary>One audit record per view: the caller, the views, the counts and the key's hash; never a value or the key.</summary>
    private async Task AuditAsync(ErasureReport report, ErasureCaller caller)
    {
        var entries = report.Views.Select(view => new AuditEntry
        {
            Time = report.ErasedAt,
            Principal = caller.Principal,
            AuthMethod = caller.AuthMethod,
            Action = "ERASE",
            ObjectType = "feature_view",
            ObjectName = view,
            Route = caller.Route,
            Address = caller.Address,
            Result = "allowed",
            Status = "erased",
            Detail = ErasureAuditDetail.Of(report, view),
        }).ToList();
        try
        {
            await GrainFactory.GetGrain<IAuditGrain>(IAuditGrain.Key).AppendAsync(entries);
        }
        catch (Exception e)
        {
            LogAuditFailed(logger, report.Project, e);
            throw new OnlineStoreUnavailableException(
                $"the entity was erased from {report.Views.Length} view(s) of project '{report.Project}', but the audit log could not record it ({e.GetType().Name}); " +
                "run the erasure again: it finds nothing more to delete and records it");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erased an entity of project {Project} from {Views} view(s); key hash {KeyHash}")]
    private static partial void LogErased(ILogger logger, string project, int views, string keyHash);

    [LoggerMessage(Level = LogLevel.Error, Message = "An erasure of project {Project} ran but its audit records could not be stored")]
    private static partial void LogAuditFailed(ILogger logger, string project, Exception exception);
}

/// <summary>The audit record's detail of an erasure: the key's hash and, per place, the rows removed for one view.</summary>
public static class ErasureAuditDetail
{
    /// <summary>e.g. <c>key_hash=3f..; online_store=1; offline_store stats_batch=3; feature_log=0; upstream driver_hourly</c>.</summary>
    public static string Of(ErasureReport report, string view)
    {
        var parts = new List<string> { $"key_hash={report.KeyHash}" };
        foreach (var place in report.Places.Where(p => p.Views.Contains(view)))
        {
            parts.Add(place.Kind switch
            {
                ErasedPlace.OnlineStore or ErasedPlace.FeatureLog => $"{place.Kind}={place.Rows}",
                ErasedPlace.Upstream => $"upstream {place.Name}",
                _ => $"{place.Kind} {place.Name}={place.Rows}",
            });
        }
        parts.Add($"caches={report.CachedEntities}/{report.SilosTold} silos");
        return string.Join("; ", parts);
    }
}
