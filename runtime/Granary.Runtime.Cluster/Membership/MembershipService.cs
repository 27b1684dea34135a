using System.Threading.Channels;
using Granary.Runtime.Cluster.Transport;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Membership;

/// <summary>
/// One silo's side of the membership protocol: joins (Joining, then Active), writes IAmAlive, probes its successor
/// peers over the transport, votes missed peers suspect and declares them dead with enough fresh votes, re-reads the
/// table periodically and on gossip, and stops its silo when it reads itself declared dead.
/// </summary>
public sealed partial class MembershipService : IAsyncDisposable
{
    private readonly IMembershipTable _table;
    private readonly SiloConnector _connector;
    private readonly ClusterOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Action<string> _onDeclaredDead;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<bool> _refreshRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<SiloAddress, int> _missedProbes = [];
    private readonly List<Task> _loops = [];
    private readonly Lock _viewLock = new();
    private volatile ClusterView _view = ClusterView.Empty;
    private MembershipEntry _self;
    private int _declaredDead;

    /// <summary>Creates the service for silo <paramref name="self"/>; <paramref name="onDeclaredDead"/> must stop the silo.</summary>
    public MembershipService(SiloAddress self, string siloName, IMembershipTable table, SiloConnector connector, ClusterOptions options,
        ILogger logger, Action<string> onDeclaredDead, TimeProvider? time = null)
    {
        _table = table;
        _connector = connector;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _onDeclaredDead = onDeclaredDead;
        var now = _time.GetUtcNow();
        _self = new MembershipEntry { Silo = self, SiloName = siloName, Status = SiloStatus.Created, StartTime = now, IAmAliveTime = now };
    }

    /// <summary>This silo.</summary>
    public SiloAddress Self => _self.Silo;

    /// <summary>The latest membership view.</summary>
    public ClusterView View => _view;

    /// <summary>Raised (on a background thread) after the view changed.</summary>
    public event Action<ClusterView>? ViewChanged;

    /// <summary>Raised when this silo's vote declared a peer Dead (the argument).</summary>
    public event Action<SiloAddress>? PeerDeclaredDead;

    /// <summary>
    /// Inserts this silo as Joining, checks it can reach every Active non-stale silo (retrying until
    /// <see cref="ClusterOptions.MaxJoinAttemptTime"/>), becomes Active and starts the protocol loops. When some
    /// peer stays unreachable the row is written Dead and <see cref="ClusterJoinException"/> is thrown.
    /// </summary>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        await _table.InitializeAsync(cancellationToken);
        await WriteOwnStatusAsync(SiloStatus.Joining, insert: true, cancellationToken);
        await EnsureActiveSilosReachableAsync(cancellationToken);
        await WriteOwnStatusAsync(SiloStatus.Active, insert: false, cancellationToken);
        await RefreshAsync(cancellationToken);
        Gossip();
        _loops.Add(Task.Run(() => RefreshLoopAsync(_stopping.Token)));
        _loops.Add(Task.Run(() => IAmAliveLoopAsync(_stopping.Token)));
        _loops.Add(Task.Run(() => ProbeLoopAsync(_stopping.Token)));
        LogJoined(Self, _view.ActiveSilos.Count);
    }

    /// <summary>
    /// Orleans' join-time connectivity check: a silo that cannot reach an active peer would split the cluster's view,
    /// so it refuses to become Active. The table is re-read on every attempt, so a peer declared Dead (or gone stale)
    /// meanwhile, such as a killed silo, stops blocking the join.
    /// </summary>
    private async Task EnsureActiveSilosReachableAsync(CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _options.MaxJoinAttemptTime;
        var backOff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            var data = await _table.ReadAllAsync(cancellationToken);
            var now = _time.GetUtcNow();
            var peers = new List<SiloAddress>();
            foreach (var row in data.Rows)
            {
                var entry = row.Entry;
                if (entry.Silo != Self && entry.Status == SiloStatus.Active && !IsStale(entry, now)) peers.Add(entry.Silo);
            }
            var probes = new Task<bool>[peers.Count];
            for (var i = 0; i < peers.Count; i++) probes[i] = ProbeAsync(peers[i]);
            await Task.WhenAll(probes);
            var unreachable = new List<SiloAddress>();
            for (var i = 0; i < peers.Count; i++)
            {
                if (!probes[i].Result) unreachable.Add(peers[i]);
            }
            if (unreachable.Count == 0) return;

            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                throw await GiveUpJoinAsync(unreachable, attempt, cancellationToken);
            }
            LogJoinProbeFailed(string.Join(", ", unreachable), attempt);
            await Task.Delay(backOff < remaining ? backOff : remaining, _time, cancellationToken);
            backOff = TimeSpan.FromMilliseconds(Math.Min(backOff.TotalMilliseconds * 2, 1000));
        }
    }

    /// <summary>Writes this silo's row Dead and returns the exception that names the unreachable silos.</summary>
    private async Task<ClusterJoinException> GiveUpJoinAsync(List<SiloAddress> unreachable, int attempts, CancellationToken cancellationToken)
    {
        var names = string.Join(", ", unreachable);
        try
        {
            // Dead is final: peers never route to this generation, and a restart joins as a new generation.
            await WriteOwnStatusAsync(SiloStatus.Dead, insert: false, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTableError("join give-up", e);
        }
        LogJoinFailed(Self, names, attempts);
        return new ClusterJoinException(Self, unreachable,
            $"Silo {Self} could not join the cluster: active silo(s) {names} stayed unreachable for " +
            $"ClusterOptions.MaxJoinAttemptTime ({_options.MaxJoinAttemptTime}, {attempts} attempts). Check the network and " +
            "firewall between the silos (the silo port must be open both ways); if those silos are gone, wait until their " +
            "peers declare them dead, or until their IAmAlive goes stale (rows with a stale IAmAlive are skipped), then start this silo again.");
    }

    /// <summary>Marks this silo ShuttingDown (graceful stop, first stage): peers stop routing new grains here.</summary>
    public async Task BeginShutdownAsync(CancellationToken cancellationToken)
    {
        await WriteOwnStatusAsync(SiloStatus.ShuttingDown, insert: false, cancellationToken);
        Gossip();
        await RefreshAsync(cancellationToken);
    }

    /// <summary>Marks this silo Dead (graceful stop, last stage) and stops the protocol loops.</summary>
    public async Task CompleteShutdownAsync(CancellationToken cancellationToken)
    {
        await WriteOwnStatusAsync(SiloStatus.Dead, insert: false, cancellationToken);
        Gossip();
        await StopLoopsAsync();
    }

    /// <summary>Stops the loops without writing anything (a crash, or after being declared dead).</summary>
    public void Abort() => _stopping.Cancel();

    /// <summary>Asks for a table re-read soon (gossip from a peer).</summary>
    public void RequestRefresh() => _refreshRequests.Writer.TryWrite(true);

    /// <summary>Reads the table, publishes the view, breaks connections to dead silos and stops the silo if it is itself dead.</summary>
    public async Task<ClusterView> RefreshAsync(CancellationToken cancellationToken)
    {
        var data = await _table.ReadAllAsync(cancellationToken);
        var members = new List<MembershipEntry>(data.Rows.Count);
        foreach (var row in data.Rows) members.Add(row.Entry);
        ClusterView previous, view;
        lock (_viewLock)
        {
            // Concurrent readers may finish out of order: never publish an older version over a newer one.
            previous = _view;
            if (data.Version.Version <= previous.Version) return previous;
            view = new ClusterView(data.Version.Version, members, _options.VirtualNodesPerSilo);
            _view = view;
        }
        foreach (var member in members)
        {
            if (member.Status == SiloStatus.Dead && member.Silo != Self && previous.StatusOf(member.Silo) != SiloStatus.Dead)
            {
                _connector.BreakConnection(member.Silo, $"silo {member.Silo} was declared dead");
            }
        }
        ViewChanged?.Invoke(view);
        var own = view.StatusOf(Self);
        if (own == SiloStatus.Dead && _self.Status != SiloStatus.Dead && Interlocked.Exchange(ref _declaredDead, 1) == 0)
        {
            LogDeclaredDead(Self);
            _stopping.Cancel();
            _onDeclaredDead($"silo {Self} found itself declared dead in the membership table");
        }
        return view;
    }

    private async Task WriteOwnStatusAsync(SiloStatus status, bool insert, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var data = await _table.ReadAllAsync(cancellationToken);
            var now = _time.GetUtcNow();
            var entry = _self with { Status = status, IAmAliveTime = now };
            bool written;
            if (insert)
            {
                written = await _table.InsertRowAsync(entry, data.Version.Next(), cancellationToken);
            }
            else
            {
                var row = data.Find(Self) ?? throw new InvalidOperationException($"Silo {Self} has no row in the membership table; it was removed while the silo ran.");
                if (row.Entry.Status == SiloStatus.Dead && status != SiloStatus.Dead)
                {
                    throw new InvalidOperationException($"Silo {Self} was declared dead by its peers and cannot become {status}; start a new silo (new generation).");
                }
                entry = entry with { SuspectTimes = row.Entry.SuspectTimes };
                written = await _table.UpdateRowAsync(entry, row.ETag, data.Version.Next(), cancellationToken);
            }
            if (written)
            {
                _self = entry;
                return;
            }
            if (attempt >= 50) throw new InvalidOperationException($"Silo {Self} could not write status {status} to the membership table after {attempt + 1} conflicting attempts.");
            await Task.Delay(Random.Shared.Next(5, 50), cancellationToken);
        }
    }

    private void Gossip()
    {
        foreach (var member in _view.Members)
        {
            if (member.Silo == Self || member.Status == SiloStatus.Dead) continue;
            var header = new MessageHeader { Kind = MessageKind.MembershipChanged };
            _ = _connector.SendAsync(member.Silo, header, BytesBody.Empty).ContinueWith(
                static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        var lastCleanup = _time.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(_options.TableRefreshTimeout);
                try { await _refreshRequests.Reader.ReadAsync(wait.Token); }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { }
                await RefreshAsync(cancellationToken);
                if (_time.GetUtcNow() - lastCleanup > _options.TableRefreshTimeout * 10)
                {
                    lastCleanup = _time.GetUtcNow();
                    await _table.CleanupDefunctSiloEntriesAsync(lastCleanup - _options.DefunctSiloExpiration, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                LogTableError("refresh", e);
                await DelayQuietly(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }

    private async Task IAmAliveLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            // Jitter so a cluster's silos do not all write at once.
            var period = _options.IAmAliveTablePublishTimeout;
            await DelayQuietly(period - TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * period.TotalMilliseconds * 0.1), cancellationToken);
            if (cancellationToken.IsCancellationRequested) return;
            try
            {
                // Only the table is updated: _self belongs to status writes, which stamp IAmAlive themselves.
                await _table.UpdateIAmAliveAsync(_self with { IAmAliveTime = _time.GetUtcNow() }, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (Exception e) { LogTableError("IAmAlive", e); }
        }
    }

    private async Task ProbeLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await DelayQuietly(_options.ProbeTimeout, cancellationToken);
            if (cancellationToken.IsCancellationRequested) return;
            var view = _view;
            var targets = ProbeTargets(view);
            var probes = new Task<bool>[targets.Count];
            for (var i = 0; i < targets.Count; i++) probes[i] = ProbeAsync(targets[i]);
            for (var i = 0; i < targets.Count; i++)
            {
                var target = targets[i];
                var answered = await probes[i];
                if (answered)
                {
                    _missedProbes.Remove(target);
                    continue;
                }
                var missed = _missedProbes.GetValueOrDefault(target) + 1;
                _missedProbes[target] = missed;
                LogProbeMissed(target, missed);
                if (missed >= _options.NumMissedProbesLimit)
                {
                    try
                    {
                        await TrySuspectOrKillAsync(target, cancellationToken);
                        _missedProbes.Remove(target);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
                    catch (Exception e) { LogTableError("vote", e); }
                }
            }
            // Forget counters of silos no longer probed.
            foreach (var silo in _missedProbes.Keys.ToList())
            {
                if (!targets.Contains(silo)) _missedProbes.Remove(silo);
            }
        }
    }

    /// <summary>The peers this silo probes: up to NumProbedSilos active successors of itself in address order.</summary>
    private List<SiloAddress> ProbeTargets(ClusterView view)
    {
        var active = view.ActiveSilos;
        var targets = new List<SiloAddress>();
        var start = 0;
        while (start < active.Count && active[start].CompareTo(Self) <= 0) start++;
        for (var i = 0; i < active.Count && targets.Count < _options.NumProbedSilos; i++)
        {
            var candidate = active[(start + i) % active.Count];
            if (candidate != Self) targets.Add(candidate);
        }
        return targets;
    }

    private async Task<bool> ProbeAsync(SiloAddress target)
    {
        try
        {
            var reply = await _connector.CallAsync(target, new MessageHeader { Kind = MessageKind.Ping }, BytesBody.Empty, _options.ProbeTimeout, "probe");
            return reply.Header.Result == ResultKind.Success;
        }
        catch (Exception e) when (e is TimeoutException or SiloUnavailableException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Adds this silo's vote against <paramref name="target"/>, declaring it Dead when the fresh votes suffice.</summary>
    public async Task TrySuspectOrKillAsync(SiloAddress target, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var data = await _table.ReadAllAsync(cancellationToken);
            if (data.Find(target) is not { } row || row.Entry.Status == SiloStatus.Dead) return;
            var now = _time.GetUtcNow();
            var votes = new List<SuspectVote>();
            foreach (var vote in row.Entry.SuspectTimes)
            {
                if (vote.Voter != Self && now - vote.At < _options.DeathVoteExpirationTimeout) votes.Add(vote);
            }
            votes.Add(new SuspectVote(Self, now));
            var activeCount = 0;
            var staleAfter = _options.IAmAliveTablePublishTimeout * _options.NumMissedTableIAmAliveLimit;
            foreach (var r in data.Rows)
            {
                if (r.Entry.Status == SiloStatus.Active && now - r.Entry.IAmAliveTime <= staleAfter) activeCount++;
            }
            var needed = Math.Max(1, Math.Min(_options.NumVotesForDeathDeclaration, (activeCount + 1) / 2));
            var declareDead = votes.Count >= needed;
            var entry = row.Entry with { SuspectTimes = votes, Status = declareDead ? SiloStatus.Dead : row.Entry.Status };
            if (await _table.UpdateRowAsync(entry, row.ETag, data.Version.Next(), cancellationToken))
            {
                if (declareDead)
                {
                    LogDeclaredPeerDead(target, votes.Count, needed);
                    PeerDeclaredDead?.Invoke(target);
                }
                else LogVoted(target, votes.Count, needed);
                Gossip();
                await RefreshAsync(cancellationToken);
                return;
            }
            await Task.Delay(Random.Shared.Next(5, 50), cancellationToken);
        }
    }

    private bool IsStale(MembershipEntry entry, DateTimeOffset now)
        => now - entry.IAmAliveTime > _options.IAmAliveTablePublishTimeout * _options.NumMissedTableIAmAliveLimit;

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken cancellationToken)
    {
        try { await Task.Delay(delay, cancellationToken); }
        catch (OperationCanceledException) { }
    }

    private async Task StopLoopsAsync()
    {
        _stopping.Cancel();
        try { await Task.WhenAll(_loops); }
        catch (OperationCanceledException) { }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopLoopsAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} joined the cluster; {ActiveCount} active silos.")]
    private partial void LogJoined(SiloAddress silo, int activeCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Joining silo could not reach active silo(s) {Peers} (attempt {Attempt}); retrying until MaxJoinAttemptTime.")]
    private partial void LogJoinProbeFailed(string peers, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Silo {Silo} gave up joining after {Attempts} attempts: active silo(s) {Peers} unreachable; its row is now Dead.")]
    private partial void LogJoinFailed(SiloAddress silo, string peers, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Probe of {Peer} missed ({Missed} in a row).")]
    private partial void LogProbeMissed(SiloAddress peer, int missed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Voted silo {Peer} suspect ({Votes} of {Needed} fresh votes needed).")]
    private partial void LogVoted(SiloAddress peer, int votes, int needed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Declared silo {Peer} dead with {Votes} fresh votes ({Needed} needed).")]
    private partial void LogDeclaredPeerDead(SiloAddress peer, int votes, int needed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Silo {Silo} found itself declared dead; stopping.")]
    private partial void LogDeclaredDead(SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Membership table {Operation} failed.")]
    private partial void LogTableError(string operation, Exception exception);
}
