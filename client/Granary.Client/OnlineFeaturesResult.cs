namespace Granary.Client;

/// <summary>How a served value came to be (Feast's FieldStatus, plus <see cref="Fallback"/>).</summary>
public enum FeatureStatus
{
    /// <summary>A value is present.</summary>
    Present,
    /// <summary>The stored value is null.</summary>
    NullValue,
    /// <summary>No row for the entity.</summary>
    NotFound,
    /// <summary>The row is older than the view's ttl.</summary>
    OutsideMaxAge,
    /// <summary>The gateway could not be reached; the configured fallback default is served.</summary>
    Fallback,
}

/// <summary>One feature of one entity row.</summary>
/// <param name="Value">long, int, double, float, bool, string, byte[], DateTimeOffset, a list of those, or null.</param>
/// <param name="Status">Whether the value is present, and why not.</param>
/// <param name="EventTime">The row's event time; null where there is none (join keys, missing rows, fallbacks).</param>
/// <param name="ServedFromCache">
/// True when the server answered from an entity grain's cache while its online store was unreachable: the last-known-good
/// value, possibly older than the store's. (<see cref="OnlineFeaturesResult.FromCache"/> is this client's own cache.)
/// </param>
public sealed record FeatureValue(object? Value, FeatureStatus Status, DateTimeOffset? EventTime, bool ServedFromCache = false);

/// <summary>The result of an online read: one row per requested entity row, one column per name in <see cref="FeatureNames"/>.</summary>
public sealed class OnlineFeaturesResult
{
    internal OnlineFeaturesResult(IReadOnlyList<string> names, IReadOnlyList<IReadOnlyList<FeatureValue>> rows, bool fromFallback, bool fromCache)
    {
        FeatureNames = names;
        Rows = rows;
        FromFallback = fromFallback;
        FromCache = fromCache;
    }

    /// <summary>Join keys first, then the features (<c>view__feature</c> with full feature names).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary><c>Rows[i][j]</c> is entity row i's value of <c>FeatureNames[j]</c>.</summary>
    public IReadOnlyList<IReadOnlyList<FeatureValue>> Rows { get; }

    /// <summary>True when the gateway was unreachable (or the breaker open) and the configured fallback defaults were served.</summary>
    public bool FromFallback { get; }

    /// <summary>True when the result came from the local cache, not from the gateway.</summary>
    public bool FromCache { get; }

    /// <summary>True when some value was served from the server's grain cache while its online store was unreachable (see <see cref="FeatureValue.ServedFromCache"/>).</summary>
    public bool AnyServedFromCache
    {
        get
        {
            foreach (var row in Rows)
                foreach (var value in row)
                    if (value.ServedFromCache) return true;
            return false;
        }
    }

    /// <summary>Entity row <paramref name="row"/>'s value of the column <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The result has no column of that name.</exception>
    public FeatureValue Get(int row, string name)
    {
        for (var j = 0; j < FeatureNames.Count; j++)
            if (FeatureNames[j] == name) return Rows[row][j];
        throw new KeyNotFoundException($"The result has no column '{name}'; its columns are {string.Join(", ", FeatureNames)}.");
    }

    internal OnlineFeaturesResult AsCached() => new(FeatureNames, Rows, FromFallback, fromCache: true);
}

/// <summary>What the gateway did with a push.</summary>
public sealed record PushResult(int RowsReceived, int RowsAccepted, int DuplicatesDropped, int RowsIgnoredAsOlder, int OnlineRowsApplied, long OfflineRowsAppended)
{
    /// <summary>Rows set aside by a quarantine data rule (neither online nor offline; see <c>granary quarantine list</c>).</summary>
    public int RowsQuarantined { get; init; }
    /// <summary>Rows stored that break only warn data rules.</summary>
    public int RowsWarned { get; init; }
}

/// <summary>Where pushed rows go.</summary>
public enum PushTarget
{
    /// <summary>The online store only.</summary>
    Online,
    /// <summary>The offline store only.</summary>
    Offline,
    /// <summary>Both.</summary>
    OnlineAndOffline,
}

/// <summary>The state of a view's materialization run.</summary>
public enum MaterializationState
{
    /// <summary>No run yet.</summary>
    Idle,
    /// <summary>Running.</summary>
    Running,
    /// <summary>Finished without error.</summary>
    Succeeded,
    /// <summary>Finished with <see cref="MaterializationStatus.Error"/>.</summary>
    Failed,
}

/// <summary>The current or last materialization run of one feature view.</summary>
public sealed record MaterializationStatus(
    string FeatureView, MaterializationState State, DateTimeOffset? Start, DateTimeOffset? End, int Partitions, int PartitionsDone,
    long RowsWritten, string? Error, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
{
    /// <summary>True once the run succeeded or failed.</summary>
    public bool IsFinished => State is MaterializationState.Succeeded or MaterializationState.Failed;
}
