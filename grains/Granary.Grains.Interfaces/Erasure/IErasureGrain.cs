namespace Granary.Grains.Erasure;

/// <summary>
/// Erases one entity of a project (key = the project) from the views keyed by it: online store, every silo's entity caches,
/// the offline rows Granary wrote (pushed rows), the feature logs; records tombstones so old rows never come back, and the
/// erasure in the audit log. Sources Granary does not write are reported for erasure upstream. Idempotent: a repeated
/// erasure finds nothing more to delete and moves the tombstones' time forward.
/// </summary>
[Alias("granary.erasure")]
public interface IErasureGrain : IGrainWithStringKey
{
    /// <summary>Runs the erasure and reports what was removed where. Bad input throws <see cref="Granary.Erasure.ErasureRequestException"/>.</summary>
    [Alias("erase"), ResponseTimeout("00:05:00")]
    Task<ErasureReport> EraseAsync(ErasureRequest request);
}

/// <summary>What to erase, and who asked (for the audit log).</summary>
/// <param name="JoinKeys">The entity's join keys.</param>
/// <param name="Values">Their values as text, in <paramref name="JoinKeys"/> order (parsed by the entities' types).</param>
/// <param name="Views">The views to erase from; empty: every view keyed by exactly these join keys.</param>
/// <param name="Caller">Who asked and how, as the audit log records it.</param>
[GenerateSerializer, Immutable, Alias("granary.ErasureRequest")]
public sealed record ErasureRequest(
    [property: Id(0)] string[] JoinKeys,
    [property: Id(1)] string[] Values,
    [property: Id(2)] string[] Views,
    [property: Id(3)] ErasureCaller Caller);

/// <summary>The principal behind an erasure, for its audit records.</summary>
/// <param name="Principal">The principal's name.</param>
/// <param name="AuthMethod">How it was authenticated (<c>apikey</c>, <c>jwt</c>, <c>local</c> for the CLI on the repository).</param>
/// <param name="Route">The request (<c>POST /erase</c>, the gRPC method, <c>cli erase</c>).</param>
/// <param name="Address">The caller's address, empty when local.</param>
[GenerateSerializer, Immutable, Alias("granary.ErasureCaller")]
public sealed record ErasureCaller([property: Id(0)] string Principal, [property: Id(1)] string AuthMethod, [property: Id(2)] string Route, [property: Id(3)] string Address);

/// <summary>What an erasure removed, where.</summary>
/// <param name="Project">The project.</param>
/// <param name="KeyHash">The keyed hash the tombstones and audit records name the entity by (never the key itself).</param>
/// <param name="ErasedAt">The erasure's time: rows of the entity with event times up to it never come back.</param>
/// <param name="Views">The views erased.</param>
/// <param name="Places">Per place: what was removed there, or what must be erased upstream.</param>
/// <param name="SilosTold">How many active silos dropped the entity from their caches.</param>
/// <param name="CachedEntities">How many of them held the entity's grain active (its cache evicted).</param>
[GenerateSerializer, Immutable, Alias("granary.ErasureReport")]
public sealed record ErasureReport(
    [property: Id(0)] string Project,
    [property: Id(1)] string KeyHash,
    [property: Id(2)] DateTimeOffset ErasedAt,
    [property: Id(3)] string[] Views,
    [property: Id(4)] ErasedPlace[] Places,
    [property: Id(5)] int SilosTold,
    [property: Id(6)] int CachedEntities);

/// <summary>One place an erasure reached.</summary>
/// <param name="Kind">One of <see cref="ErasedPlace.OnlineStore"/>, <see cref="ErasedPlace.OfflineStore"/>, <see cref="ErasedPlace.FeatureLog"/>, <see cref="ErasedPlace.Upstream"/>.</param>
/// <param name="Name">The view (online store, feature log) or the source (offline, upstream).</param>
/// <param name="Location">The store's kind and where: <c>sqlite</c>/<c>redis</c>, a Parquet path, a PostgreSQL table.</param>
/// <param name="Rows">Rows deleted (0 for an upstream source: Granary does not change it).</param>
/// <param name="Views">The views whose data this place held.</param>
[GenerateSerializer, Immutable, Alias("granary.ErasedPlace")]
public sealed record ErasedPlace(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] string Location,
    [property: Id(3)] long Rows,
    [property: Id(4)] string[] Views)
{
    /// <summary>The online store's rows of a view.</summary>
    public const string OnlineStore = "online_store";
    /// <summary>Rows Granary appended to a batch source (pushes).</summary>
    public const string OfflineStore = "offline_store";
    /// <summary>Logged serving data of a view.</summary>
    public const string FeatureLog = "feature_log";
    /// <summary>A batch source Granary does not write: erase the entity there.</summary>
    public const string Upstream = "upstream";
}
