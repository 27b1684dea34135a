using Granary.Grains.Online;

namespace Granary.Gateway;

/// <summary>
/// Materialization as REST and gRPC start it: views checked against the registry first (404 unknown, 400 offline-only),
/// a view already running another window refused (409), a window ending in the future refused (400), every run started
/// through its <see cref="IMaterializationGrain"/>.
/// </summary>
public sealed class MaterializationRuns(IGrainFactory grains, OnlineFeatureQueries queries, TimeProvider time)
{
    /// <summary>
    /// How far past the gateway's clock a window may end (clocks of caller and gateway differ a little). A window ending
    /// later would mark the view fresh up to a time whose rows do not exist yet, and every later incremental run would
    /// start after it.
    /// </summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    /// <summary>How often a waiting caller polls the runs.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The views to run: <paramref name="requested"/>, or every online view when empty.</summary>
    public async Task<IReadOnlyList<string>> ChooseAsync(IReadOnlyList<string> requested, string field)
    {
        var snapshot = await queries.SnapshotAsync();
        if (requested.Count == 0) return snapshot.FeatureViews.Where(v => v.Online).Select(v => v.Name).ToList();
        for (var i = 0; i < requested.Count; i++)
        {
            var view = snapshot.FeatureViews.FirstOrDefault(v => v.Name == requested[i])
                ?? throw new GatewayNotFoundException($"{field}[{i}] '{GatewayErrors.Echo(requested[i])}' is not a feature view of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.FeatureViews.Select(v => v.Name))}", feastClass: FeastErrors.FeatureViewNotFound);
            if (!view.Online)
                throw new GatewayRequestException($"{field}[{i}] '{view.Name}' has online: false, so it cannot be materialized", "set online: true on the view and apply, or leave it out");
        }
        return requested.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Starts [start, end] (start from the registry when <paramref name="start"/> is null) for each view; a view running another window is a conflict.</summary>
    public async Task<IReadOnlyList<MaterializationStatus>> StartAsync(IReadOnlyList<string> views, DateTimeOffset? start, DateTimeOffset end)
    {
        if (start is { } s && end < s)
            throw new GatewayRequestException($"end_ts {end:O} is before start_ts {s:O}", "send a window whose end is after its start");
        var now = time.GetUtcNow();
        if (end > now + MaxFutureSkew)
            throw new GatewayRequestException($"end_ts {end:O} is in the future (the gateway's clock reads {now:O}); a materialization window ends at most {MaxFutureSkew.TotalMinutes:0} minutes from now",
                "materialize up to now; rows with later event times are materialized by a later run");
        foreach (var view in views)
        {
            var status = await Grain(view).GetStatusAsync();
            if (status.State == MaterializationRunState.Running && (start is null || status.Start != start || status.End != end))
                throw new GatewayConflictException($"feature view '{view}' is already materializing [{status.Start:O}, {status.End:O}]",
                    "wait for that run to finish (GetMaterializationStatus), then start the next window");
        }
        var started = new List<MaterializationStatus>(views.Count);
        foreach (var view in views) started.Add(await Grain(view).StartAsync(start ?? default, end, incremental: start is null));
        return started;
    }

    /// <summary>The current or last run of each view.</summary>
    public async Task<IReadOnlyList<MaterializationStatus>> StatusAsync(IReadOnlyList<string> views)
    {
        var calls = views.Select(v => Grain(v).GetStatusAsync()).ToArray();
        return await Task.WhenAll(calls);
    }

    /// <summary>Polls until every run of <paramref name="views"/> has finished; <paramref name="onProgress"/> sees each poll.</summary>
    public async Task<IReadOnlyList<MaterializationStatus>> WaitAsync(IReadOnlyList<string> views, Func<IReadOnlyList<MaterializationStatus>, Task>? onProgress, CancellationToken cancellationToken)
    {
        while (true)
        {
            var statuses = await StatusAsync(views);
            if (onProgress is not null) await onProgress(statuses);
            if (statuses.All(s => s.IsFinished || s.State == MaterializationRunState.Idle)) return statuses;
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>Throws <see cref="GatewayJobFailedException"/> naming every failed run.</summary>
    public static void ThrowIfFailed(IReadOnlyList<MaterializationStatus> statuses)
    {
        var failed = statuses.Where(s => s.State == MaterializationRunState.Failed).ToList();
        if (failed.Count > 0)
            throw new GatewayJobFailedException(string.Join("; ", failed.Select(s => $"materialization of '{s.View}' failed: {s.Error}")));
    }

    private IMaterializationGrain Grain(string view) => grains.GetGrain<IMaterializationGrain>($"{queries.Options.Project}/{view}");
}
