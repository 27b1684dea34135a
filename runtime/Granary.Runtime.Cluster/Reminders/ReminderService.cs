using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Invocation;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Reminders;

/// <summary>
/// Runs the reminders this silo owns: those whose grain falls in this silo's ring ranges. It re-reads the reminder
/// table every <see cref="ClusterOptions.ReminderRefreshPeriod"/> and at once when membership changes, so a dead
/// silo's reminders are picked up by the survivors. Each tick is a <see cref="IRemindable.ReceiveReminder"/> call,
/// which activates the grain. Ticks may be missed or repeated around ownership changes (as in Orleans).
/// </summary>
public sealed partial class ReminderService : IAsyncDisposable
{
    private readonly IReminderTable _table;
    private readonly ClusterOptions _options;
    private readonly Func<ClusterView> _view;
    private readonly Func<SiloAddress?> _self;
    private readonly IGrainCallInvoker _invoker;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(GrainId Grain, string Name), Scheduled> _scheduled = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _refreshSignal = new(0, 1);
    private Task? _loop;

    /// <summary>Creates the service; <see cref="Start"/> begins reading the table.</summary>
    public ReminderService(IReminderTable table, ClusterOptions options, Func<ClusterView> view, Func<SiloAddress?> self,
        IGrainCallInvoker invoker, TimeProvider time, ILogger logger)
    {
        _table = table;
        _options = options;
        _view = view;
        _self = self;
        _invoker = invoker;
        _time = time;
        _logger = logger;
    }

    /// <summary>The reminder table.</summary>
    public IReminderTable Table => _table;

    /// <summary>How many reminders this silo currently schedules.</summary>
    public int ScheduledCount { get { lock (_lock) return _scheduled.Count; } }

    /// <summary>Starts the refresh loop.</summary>
    public void Start() => _loop = Task.Run(() => RefreshLoopAsync(_stopping.Token));

    /// <summary>Asks for a table re-read soon (membership changed).</summary>
    public void RequestRefresh()
    {
        try { _refreshSignal.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>Stores a reminder and schedules it here when this silo owns the grain.</summary>
    public async Task<GrainReminder> RegisterOrUpdateAsync(GrainId grain, string name, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (period < _options.MinimumReminderPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period,
                $"Reminder '{name}' of grain {grain} has period {period}, below the minimum {_options.MinimumReminderPeriod} (ClusterOptions.MinimumReminderPeriod); use a longer period or a grain timer.");
        }
        if (dueTime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, $"Reminder '{name}' needs a non-negative due time.");
        var entry = new ReminderEntry(grain, name, _time.GetUtcNow() + dueTime, period);
        var etag = await _table.UpsertRowAsync(entry);
        entry = entry with { ETag = etag };
        if (_view().Ring.OwnerOf(grain) is { } owner && owner == _self()) Schedule(entry);
        return new GrainReminder(grain, name, etag);
    }

    /// <summary>Deletes a reminder and stops its ticks here; false when it did not exist.</summary>
    public async Task<bool> UnregisterAsync(GrainId grain, string name)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var row = await _table.ReadRowAsync(grain, name);
            if (row is null)
            {
                Cancel((grain, name));
                return false;
            }
            if (await _table.RemoveRowAsync(grain, name, row.ETag))
            {
                Cancel((grain, name));
                return true;
            }
        }
        throw new InvalidOperationException($"Reminder '{name}' of grain {grain} kept changing while being unregistered; try again.");
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        try { await _table.InitializeAsync(cancellationToken); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
        catch (Exception e) { LogRefreshFailed(e); }
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (Exception e) { LogRefreshFailed(e); }
            try { await _refreshSignal.WaitAsync(_options.ReminderRefreshPeriod, cancellationToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Reads the table and schedules exactly the reminders this silo owns now.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var rows = await _table.ReadAllAsync(cancellationToken);
        var ring = _view().Ring;
        var self = _self();
        var owned = new HashSet<(GrainId, string)>();
        foreach (var row in rows)
        {
            if (self is null || ring.OwnerOf(row.Grain) != self) continue;
            owned.Add((row.Grain, row.Name));
            Schedule(row);
        }
        List<(GrainId, string)> gone;
        lock (_lock) gone = _scheduled.Keys.Where(k => !owned.Contains(k)).ToList();
        foreach (var key in gone) Cancel(key);
    }

    private void Schedule(ReminderEntry entry)
    {
        var key = (entry.Grain, entry.Name);
        lock (_lock)
        {
            if (_stopping.IsCancellationRequested) return;
            if (_scheduled.TryGetValue(key, out var existing))
            {
                if (existing.Entry.ETag == entry.ETag) return;
                existing.Timer.Dispose();
            }
            var scheduled = new Scheduled(entry);
            var due = entry.NextTickAtOrAfter(_time.GetUtcNow()) - _time.GetUtcNow();
            scheduled.Timer = _time.CreateTimer(static state => ((TickState)state!).Service.OnTick(((TickState)state).Scheduled), new TickState(this, scheduled),
                due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
            _scheduled[key] = scheduled;
        }
    }

    private void Cancel((GrainId, string) key)
    {
        lock (_lock)
        {
            if (_scheduled.Remove(key, out var scheduled)) scheduled.Timer.Dispose();
        }
    }

    private void OnTick(Scheduled scheduled) => _ = TickAsync(scheduled);

    private async Task TickAsync(Scheduled scheduled)
    {
        var entry = scheduled.Entry;
        var now = _time.GetUtcNow();
        var dueAt = entry.NextTickAtOrAfter(now - entry.Period / 2);
        try
        {
            var descriptor = GrainInterfaceRegistry.Find(typeof(IRemindable))
                ?? throw new InvalidOperationException("The generated proxy of IRemindable is not registered; Granary.Runtime.Cluster was built without its code generator.");
            var grain = (IRemindable)descriptor.CreateProxy(_invoker, entry.Grain);
            await grain.ReceiveReminder(entry.Name, new TickStatus(entry.StartAt, entry.Period, dueAt));
        }
        catch (Exception e)
        {
            LogTickFailed(entry.Name, entry.Grain, e);
        }
        lock (_lock)
        {
            // Re-arm only if this schedule is still the current one (not cancelled or replaced meanwhile).
            if (_stopping.IsCancellationRequested || !_scheduled.TryGetValue((entry.Grain, entry.Name), out var current) || current != scheduled) return;
            var after = _time.GetUtcNow();
            var next = entry.NextTickAtOrAfter(after);
            if (next <= dueAt) next = dueAt + entry.Period;
            scheduled.Timer.Change(next - after < TimeSpan.Zero ? TimeSpan.Zero : next - after, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops every local reminder timer (the rows stay in the table).</summary>
    public void Stop()
    {
        _stopping.Cancel();
        lock (_lock)
        {
            foreach (var scheduled in _scheduled.Values) scheduled.Timer.Dispose();
            _scheduled.Clear();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Stop();
        if (_loop is null) return;
        try { await _loop; }
        catch (OperationCanceledException) { }
    }

    private sealed class Scheduled(ReminderEntry entry)
    {
        public ReminderEntry Entry { get; } = entry;
        public ITimer Timer { get; set; } = null!;
    }

    private sealed record TickState(ReminderService Service, Scheduled Scheduled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the reminder table failed.")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reminder '{Name}' of grain {Grain} failed its tick.")]
    private partial void LogTickFailed(string name, GrainId grain, Exception exception);
}
