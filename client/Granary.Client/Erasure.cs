using Granary.Gateway.V1;
using Polly;

namespace Granary.Client;

// Erasure through the gateway (Granary/Erase).
public sealed partial class GranaryClient
{
    /// <summary>
    /// Erases one entity (its join keys and values as text, e.g. <c>driver_id</c> -> <c>1001</c>) from <paramref name="featureViews"/>
    /// (none: every view keyed by exactly these join keys) and reports what was removed where. Needs ERASE on every view.
    /// Never retried by the client; running it again is harmless (it finds nothing more to delete).
    /// </summary>
    public async Task<ErasureResult> EraseAsync(IReadOnlyDictionary<string, string> entity, IReadOnlyList<string>? featureViews = null,
        TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var request = new EraseRequest();
        foreach (var (key, value) in entity) request.Entity[key] = value;
        if (featureViews is not null) request.FeatureViews.Add(featureViews);
        var r = await CallAsync("Erase", ResiliencePipeline.Empty, t => _grpc.EraseAsync(request, Options(deadline, t)).ResponseAsync, cancellationToken);
        return new ErasureResult(r.Project, r.KeyHash, r.ErasedAt.ToDateTimeOffset(), [.. r.FeatureViews],
            [.. r.Places.Select(p => new ErasureResultPlace(p.Kind, p.Name, p.Location, p.Rows, [.. p.FeatureViews]))], r.SilosTold, r.CachedEntities);
    }
}

/// <summary>What an erasure removed, where (<see cref="GranaryClient.EraseAsync"/>).</summary>
/// <param name="Project">The project.</param>
/// <param name="KeyHash">The keyed hash the tombstones and audit records hold instead of the key.</param>
/// <param name="ErasedAt">The erasure's time: rows of the entity with event times up to it never come back.</param>
/// <param name="FeatureViews">The views erased.</param>
/// <param name="Places">Per place: online store, offline source, feature log, or an upstream source to erase there.</param>
/// <param name="SilosTold">Active silos that dropped the entity from their caches.</param>
/// <param name="CachedEntities">How many of them held the entity's grain.</param>
public sealed record ErasureResult(string Project, string KeyHash, DateTimeOffset ErasedAt, IReadOnlyList<string> FeatureViews,
    IReadOnlyList<ErasureResultPlace> Places, int SilosTold, int CachedEntities);

/// <summary>One place an erasure reached.</summary>
/// <param name="Kind"><c>online_store</c>, <c>offline_store</c>, <c>feature_log</c> or <c>upstream</c> (erase there: Granary does not write it).</param>
/// <param name="Name">The view or the source.</param>
/// <param name="Location">The store and where: <c>redis</c>, <c>parquet data/stats</c>, <c>postgres table stats</c>.</param>
/// <param name="Rows">Rows deleted.</param>
/// <param name="FeatureViews">The views whose data it held.</param>
public sealed record ErasureResultPlace(string Kind, string Name, string Location, long Rows, IReadOnlyList<string> FeatureViews);
