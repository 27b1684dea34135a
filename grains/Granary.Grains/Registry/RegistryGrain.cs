using Granary.Definitions;
using Granary.Registry;
using Microsoft.Extensions.Hosting;
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
public sealed class RegistryGrain(RegistryService registry, IHostApplicationLifetime? lifetime = null) : Grain, IRegistryGrain
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
        lock (_gate)
        {
            if (snapshot.Version < _latest.Version) return;
            var isNew = snapshot.Version > _latest.Version;
            _latest = snapshot;
            if (!isNew) return;
            signal = _changed;
            _changed = NewSignal();
        }
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
