using Granary.Definitions;
using Granary.Registry;
using Granary.Grains.Online;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Granary.Grains.Registry;

/// <summary>
/// The registry of one project. Holds the current snapshot in memory for fast reads, applies through
/// <see cref="RegistryService"/> (whose store compare-and-set also guards against writers in other processes),
/// and wakes long-polling readers the moment a new version exists.
/// </summary>
/// <remarks>
/// Reentrant: a running long poll would otherwise hold the turn and block the apply it waits for. Interleaved applies stay
/// correct because every write is a compare-and-set in the store, and the in-memory snapshot only moves forward.
/// </remarks>
[Reentrant]
[GrainType("registry")]
public sealed partial class RegistryGrain(RegistryService registry, ILogger<RegistryGrain> logger, IHostApplicationLifetime? lifetime = null) : Grain, IRegistryGrain
{
    /// <summary>Longest a long poll is held, kept below Orleans' default 30 s response timeout.</summary>
    public static readonly TimeSpan MaxLongPoll = TimeSpan.FromSeconds(25);

    private readonly Lock _gate = new();
    private RegistrySnapshot _latest = RegistryService.Empty("");
    private TaskCompletionSource _changed = NewSignal();

    private string Project => this.GetPrimaryKeyString();

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
        => Publish(await registry.GetLatestAsync(Project, cancellationToken));

    /// <inheritdoc/>
    public Task<RegistryPlan> PlanAsync(RegistrySnapshot definitions) => registry.PlanAsync(Project, definitions);

    /// <inheritdoc/>
    public async Task<ApplyResult> ApplyAsync(ApplyRequest apply)
    {
        try
        {
            var result = await registry.ApplyAsync(Project, apply);
            if (result.Created) Publish(await registry.GetVersionAsync(Project, result.Version));
            return result;
        }
        catch (RegistryConflictException)
        {
            // Another process wrote: catch up so readers see its version.
            Publish(await registry.GetLatestAsync(Project));
            throw;
        }
    }

    /// <inheritdoc/>
    public Task<RegistrySnapshot> GetSnapshotAsync() => Task.FromResult(Volatile.Read(ref _latest));

    /// <inheritdoc/>
    public Task<RegistrySnapshot> GetVersionAsync(long version) => registry.GetVersionAsync(Project, version);

    /// <inheritdoc/>
    public Task<IReadOnlyList<RegistryVersionInfo>> GetHistoryAsync() => registry.GetHistoryAsync(Project);

    /// <inheritdoc/>
    public async Task<ApplyResult> RollbackAsync(long version, long? expectedVersion, bool force)
    {
        try
        {
            var result = await registry.RollbackAsync(Project, version, expectedVersion, force);
            Publish(await registry.GetVersionAsync(Project, result.Version));
            return result;
        }
        catch (RegistryConflictException)
        {
            Publish(await registry.GetLatestAsync(Project));
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task RecordMaterializationIntervalAsync(string featureView, DateTimeOffset start, DateTimeOffset end)
    {
        await registry.RecordMaterializationIntervalAsync(Project, featureView, start, end);
        // Same version, more intervals: readers holding the version keep it; GetSnapshot shows the new interval.
        var refreshed = await registry.GetVersionAsync(Project, Volatile.Read(ref _latest).Version);
        lock (_gate) if (refreshed.Version == _latest.Version) _latest = refreshed;
    }

    /// <inheritdoc/>
    public async Task<RegistrySnapshot?> WaitForVersionAfterAsync(long knownVersion, TimeSpan maxWait)
    {
        if (maxWait > MaxLongPoll) maxWait = MaxLongPoll;
        if (maxWait < TimeSpan.Zero) maxWait = TimeSpan.Zero;
        Task changed;
        lock (_gate)
        {
            if (_latest.Version > knownVersion) return _latest;
            changed = _changed.Task;
        }
        // A silo that is stopping releases its waiters at once rather than holding its shutdown for the full wait.
        var stopping = lifetime?.ApplicationStopping ?? CancellationToken.None;
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        wake.CancelAfter(maxWait);
        await changed.WaitAsync(wake.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        var latest = Volatile.Read(ref _latest);
        if (latest.Version > knownVersion) return latest;
        // Nothing applied through this activation; a writer elsewhere (another CLI on the same database) may have.
        if (await registry.GetLatestAsync(Project) is { } stored && stored.Version > knownVersion)
        {
            Publish(stored);
            return stored;
        }
        return null;
    }

    private void Publish(RegistrySnapshot snapshot)
    {
        TaskCompletionSource signal;
        RegistrySnapshot previous;
        lock (_gate)
        {
            if (snapshot.Version < _latest.Version) return;
            var isNew = snapshot.Version > _latest.Version;
            previous = _latest;
            _latest = snapshot;
            if (!isNew) return;
            signal = _changed;
            _changed = NewSignal();
        }
        signal.TrySetResult();
        // Runs on this activation's scheduler; a failure is logged and retried at the next version or activation.
        _ = SyncSchedulesAsync(previous.Version == 0 ? null : previous, snapshot);
    }

    /// <summary>
    /// Keeps each view's scheduled materialization (an Orleans reminder on its MaterializationGrain) equal to its
    /// definition: <c>materialize_every</c> / <c>materialize_lookback</c> (default lookback twice the period).
    /// On activation every scheduled view is (re)registered, which is idempotent.
    /// </summary>
    private async Task SyncSchedulesAsync(RegistrySnapshot? previous, RegistrySnapshot current)
    {
        try
        {
            foreach (var view in current.FeatureViews)
            {
                var before = previous?.FeatureViews.FirstOrDefault(v => v.Name == view.Name);
                var every = view.Online ? view.MaterializeEvery : null;
                var lookback = view.MaterializeLookback ?? (every is { } e ? e * 2 : TimeSpan.Zero);
                var unchanged = before is not null && (before.Online ? before.MaterializeEvery : null) == every
                                && (before.MaterializeLookback ?? (every is { } b ? b * 2 : TimeSpan.Zero)) == lookback;
                if (unchanged && previous is not null) continue;
                if (every is null && before?.MaterializeEvery is null) continue;
                await GrainFactory.GetGrain<IMaterializationGrain>($"{Project}/{view.Name}").ScheduleAsync(every, lookback);
            }
            foreach (var removed in previous?.FeatureViews.Where(v => v.MaterializeEvery is not null && current.FeatureViews.All(c => c.Name != v.Name)) ?? [])
                await GrainFactory.GetGrain<IMaterializationGrain>($"{Project}/{removed.Name}").ScheduleAsync(null, TimeSpan.Zero);
        }
        catch (Exception e)
        {
            LogScheduleSyncFailed(logger, Project, current.Version, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Materialization schedules of project {Project} (registry version {Version}) could not be synchronized")]
    private static partial void LogScheduleSyncFailed(ILogger logger, string project, long version, Exception exception);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
