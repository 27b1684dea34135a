namespace Granary.Client;

/// <summary>The state of the client's circuit breaker.</summary>
public enum BreakerState
{
    /// <summary>Calls go through.</summary>
    Closed,
    /// <summary>Calls fail at once (reads serve fallbacks) until the break duration passes.</summary>
    Open,
    /// <summary>The break passed; one trial call is let through, and its outcome closes or reopens the breaker.</summary>
    HalfOpen,
}

/// <summary>
/// Opens after N consecutive failed calls, half-opens after a break. Written here rather than taken from Polly because Polly's
/// breaker counts a failure ratio over a sampling window, not consecutive failures.
/// </summary>
internal sealed class CircuitBreaker(int threshold, TimeSpan breakDuration, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset _openedAt;
    private BreakerState _state = BreakerState.Closed;
    private bool _trialRunning;

    public BreakerState State
    {
        get
        {
            lock (_gate)
            {
                return _state == BreakerState.Open && clock.GetUtcNow() - _openedAt >= breakDuration ? BreakerState.HalfOpen : _state;
            }
        }
    }

    /// <summary>False when the call must not be made; true lets it through (the trial call when half-open).</summary>
    public bool TryEnter()
    {
        if (threshold == 0) return true;
        lock (_gate)
        {
            if (_state == BreakerState.Open && clock.GetUtcNow() - _openedAt >= breakDuration) _state = BreakerState.HalfOpen;
            if (_state == BreakerState.Closed) return true;
            if (_state == BreakerState.HalfOpen && !_trialRunning)
            {
                _trialRunning = true;
                return true;
            }
            return false;
        }
    }

    public void Success()
    {
        lock (_gate)
        {
            _failures = 0;
            _trialRunning = false;
            _state = BreakerState.Closed;
        }
    }

    public void Failure()
    {
        if (threshold == 0) return;
        lock (_gate)
        {
            _trialRunning = false;
            _failures++;
            if (_state == BreakerState.HalfOpen || _failures >= threshold)
            {
                _state = BreakerState.Open;
                _openedAt = clock.GetUtcNow();
            }
        }
    }

    /// <summary>A call that was let through but ended without a verdict on the server (e.g. the caller cancelled).</summary>
    public void Abandon()
    {
        lock (_gate) _trialRunning = false;
    }
}
