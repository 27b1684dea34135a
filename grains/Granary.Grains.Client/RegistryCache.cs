using System.Collections.Concurrent;
using Granary.Definitions;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Registry;

/// <summary>
/// One per silo: the current registry snapshot of each project, for readers on hot paths (no grain call per read).
/// After the first read of a project it keeps one long poll open on the project's <see cref="IRegistryGrain"/>,
/// so a new version is seen as soon as it is applied, without a fixed refresh interval.
/// </summary>
public sealed partial class RegistryCache(IGrainFactory grains, ILogger<RegistryCache> logger) : IAsyncDisposable
{
    /// <summary>How long each long poll is held by the registry grain before it is renewed.</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How much longer than <see cref="PollWait"/> a poll may take before the cache gives it up and polls again: the bound
    /// that makes a registry grain on a dead silo cost one poll (the next reaches its new activation), not a call timeout.
    /// </summary>
    public static readonly TimeSpan PollGrace = TimeSpan.FromSeconds(2);

    private readonly IGrainFactory _grains = grains;
    private readonly ILogger<RegistryCache> _logger = logger;
    private readonly ConcurrentDictionary<string, Lazy<ProjectEntry>> _projects = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Raised (on a thread-pool thread) when a project's cached snapshot moves to a newer version.</summary>
    public event Action<RegistrySnapshot>? VersionChanged;

    /// <summary>The cached snapshot of <paramref name="project"/>; the first call per project fetches it and starts following new versions.</summary>
    public ValueTask<RegistrySnapshot> GetAsync(string project)
    {
        // Every entity-grain read passes here: the lookup first, so the common case allocates no closure.
        var entry = (_projects.TryGetValue(project, out var held) ? held : _projects.GetOrAdd(project, p => new Lazy<ProjectEntry>(() => new ProjectEntry(this, p)))).Value;
        var snapshot = entry.Snapshot;
        return snapshot is not null ? new ValueTask<RegistrySnapshot>(snapshot) : new ValueTask<RegistrySnapshot>(entry.FirstLoad);
    }

    /// <summary>Waits until the cache holds version <paramref name="minVersion"/> or later of <paramref name="project"/>, e.g. right after an apply.</summary>
    public async Task<RegistrySnapshot> WaitForVersionAsync(string project, long minVersion, TimeSpan timeout)
    {
        var snapshot = await GetAsync(project);
        if (snapshot.Version >= minVersion) return snapshot;
        var entry = _projects[project].Value;
        using var timer = new CancellationTokenSource(timeout);
        while (true)
        {
            var next = entry.NextChange;
            snapshot = entry.Snapshot!;
            if (snapshot.Version >= minVersion) return snapshot;
            try
            {
                await next.WaitAsync(timer.Token);
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested)
            {
                throw new TimeoutException($"registry cache of project '{project}' did not reach version {minVersion} within {timeout}; it holds version {entry.Snapshot!.Version}");
            }
        }
    }

    /// <summary>Stops following every project (cached snapshots stay readable).</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync();
        foreach (var entry in _projects.Values)
            if (entry.IsValueCreated) await entry.Value.Follow.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Stops following every project.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private sealed class ProjectEntry
    {
        private readonly RegistryCache _cache;
        private readonly string _project;
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ProjectEntry(RegistryCache cache, string project)
        {
            _cache = cache;
            _project = project;
            FirstLoad = LoadAsync();
            Follow = FollowAsync();
        }

        public volatile RegistrySnapshot? Snapshot;
        public Task<RegistrySnapshot> FirstLoad { get; }
        public Task Follow { get; }
        public Task NextChange => Volatile.Read(ref _next).Task;

        private async Task<RegistrySnapshot> LoadAsync()
        {
            var snapshot = await _cache._grains.GetGrain<IRegistryGrain>(_project).GetSnapshotAsync();
            Set(snapshot);
            return Snapshot!;
        }

        private async Task FollowAsync()
        {
            var token = _cache._stopping.Token;
            try { await FirstLoad.WaitAsync(token); }
            catch (Exception e) when (e is not OperationCanceledException) { LogPollFailed(_cache._logger, _project, e); }
            while (!token.IsCancellationRequested)
            {
                try
                {
                    var known = Snapshot?.Version ?? -1;
                    var newer = await _cache._grains.GetGrain<IRegistryGrain>(_project).WaitForVersionAfterAsync(known, PollWait).WaitAsync(PollWait + PollGrace, token);
                    if (newer is not null) Set(newer);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (TimeoutException)
                {
                    // The poll outlived its bound (its silo died or stalls): poll again; the grain answers from wherever it lives now.
                    LogPollTimedOut(_cache._logger, _project, PollWait + PollGrace);
                }
                catch (Exception e)
                {
                    // The registry may be moving to another silo or its database may be down: retry after a pause.
                    LogPollFailed(_cache._logger, _project, e);
                    try { await Task.Delay(TimeSpan.FromSeconds(1), token); } catch (OperationCanceledException) { return; }
                }
            }
        }

        private void Set(RegistrySnapshot snapshot)
        {
            var current = Snapshot;
            if (current is not null && snapshot.Version <= current.Version) return;
            Snapshot = snapshot;
            var signal = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            signal.TrySetResult();
            if (current is not null)
            {
                LogNewVersion(_cache._logger, _project, snapshot.Version);
                _cache.VersionChanged?.Invoke(snapshot);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry long poll for project {Project} failed; retrying")]
    private static partial void LogPollFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry long poll for project {Project} got no answer within {Bound}; polling again")]
    private static partial void LogPollTimedOut(ILogger logger, string project, TimeSpan bound);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registry cache of project {Project} moved to version {Version}")]
    private static partial void LogNewVersion(ILogger logger, string project, long version);
}
