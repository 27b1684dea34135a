using Granary.Runtime.Catalog;

namespace Granary.Runtime.Timers;

/// <summary>
/// A timer on one activation. Each tick is a turn of the activation (same interleaving rules as a request); the next
/// due time is counted from the end of the previous tick, so ticks never overlap. Disposed with the activation.
/// </summary>
internal sealed class GrainTimer : IDisposable
{
    private readonly ActivationData _owner;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly TimeSpan _dueTime;
    private readonly TimeSpan _period;
    private readonly CancellationTokenSource _disposed = new();
    private ITimer? _timer;

    public GrainTimer(ActivationData owner, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "A grain timer's due time must be zero or positive (or infinite).");
        if (period <= TimeSpan.Zero && period != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(period), period, "A grain timer's period must be positive, or Timeout.InfiniteTimeSpan for a single tick.");
        _owner = owner;
        _callback = callback;
        _dueTime = dueTime;
        _period = period;
    }

    public void Start()
    {
        lock (_disposed)
        {
            if (_disposed.IsCancellationRequested) return;
            _timer = _owner.Time.CreateTimer(static state => ((GrainTimer)state!).OnDue(), this, _dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDue()
    {
        if (!_disposed.IsCancellationRequested) _owner.SubmitTimerTick(this);
    }

    /// <summary>Runs the callback; called inside a turn of the owning activation.</summary>
    public Task TickAsync() => _disposed.IsCancellationRequested ? Task.CompletedTask : _callback(_disposed.Token);

    /// <summary>Arms the next tick one period after the previous one finished.</summary>
    public void ScheduleNext()
    {
        lock (_disposed)
        {
            if (_disposed.IsCancellationRequested || _period == Timeout.InfiniteTimeSpan) return;
            _timer?.Change(_period, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_disposed)
        {
            if (_disposed.IsCancellationRequested) return;
            _disposed.Cancel();
            _timer?.Dispose();
        }
        _owner.RemoveTimer(this);
    }
}
