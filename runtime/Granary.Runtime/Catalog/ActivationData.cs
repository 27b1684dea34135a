using System.Diagnostics;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Invocation;
using Granary.Runtime.Timers;

namespace Granary.Runtime.Catalog;

/// <summary>
/// One activation of a grain: its instance, lifecycle, request admission (non-reentrant by default) and its own turn
/// scheduler. The activation is the <see cref="SynchronizationContext"/> its code runs under, so every continuation
/// of the grain's awaits comes back to its queue and at most one thread runs the grain's code at any time.
/// </summary>
internal sealed class ActivationData : SynchronizationContext, IGrainContext, IGrainRequestCompletion, IThreadPoolWorkItem
{
    private const int MaxItemsPerDrain = 64;

    [ThreadStatic]
    private static int t_inlineDepth;

    /// <summary>The request whose first turn runs inline on this thread, until it completes or yields.</summary>
    [ThreadStatic]
    private static GrainRequest? t_inlineRequest;

    private enum Lifecycle { Activating, Valid, Deactivating, Invalid }

    private readonly Lock _lock = new();
    private readonly ActivationCatalog _catalog;
    private readonly GrainClassInfo _class;
    private readonly SendOrPostCallback _runQueuedRequest;
    private readonly SendOrPostCallback _runQueuedTimerTick;
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _lock.
    private Lifecycle _state = Lifecycle.Activating;
    private int _running;
    private int _runningNonReadOnly;
    private readonly Queue<object> _waiting = new();
    private bool _turnActive;
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _work = new();
    private bool _touched;
    private DateTimeOffset _lastActive;
    private bool _deactivateOnIdle;
    private DeactivationReason _deactivationReason;
    private List<GrainTimer>? _timers;

    private object? _grain;
    private IPersistentStateLoader[] _states = [];

    public ActivationData(ActivationCatalog catalog, GrainClassInfo grainClass, GrainId grainId, StatelessWorkerPool? pool)
    {
        _catalog = catalog;
        _class = grainClass;
        GrainId = grainId;
        Pool = pool;
        _runQueuedRequest = RunQueuedRequest;
        _runQueuedTimerTick = RunQueuedTimerTick;
        _lastActive = catalog.Time.GetUtcNow();
    }

    public GrainId GrainId { get; }
    public GrainClassInfo GrainClass => _class;
    public StatelessWorkerPool? Pool { get; }
    public IGrainFactory GrainFactory => _catalog.GrainFactory;
    public IServiceProvider Services => _catalog.Services;
    public TimeProvider Time => _catalog.Time;
    public Task Deactivated => _deactivated.Task;
    public bool IsValid => _state is Lifecycle.Valid or Lifecycle.Activating;

    /// <summary>Rough load for stateless worker placement: calls running or waiting.</summary>
    public int Load => Volatile.Read(ref _running) + _waiting.Count;

    public object? GrainInstance => _grain;

    // ---------------------------------------------------------------- requests

    /// <summary>
    /// Accepts a request for this activation. Returns false only when the activation is gone, so the caller must
    /// look the grain up again. When the activation is idle and <paramref name="allowInline"/> is set, the request's
    /// first turn runs on the caller's thread.
    /// </summary>
    public bool TrySubmit(GrainRequest request, bool allowInline)
    {
        bool runInline = false, schedule = false;
        lock (_lock)
        {
            if (_state == Lifecycle.Invalid) return false;
            _touched = true;
            var options = request.Method.Options;
            if (_state == Lifecycle.Valid && (_waiting.Count == 0 || (options & GrainMethodOptions.AlwaysInterleave) != 0) && MayInvoke(options))
            {
                Admit(options);
                if (allowInline && !_turnActive && _work.Count == 0 && t_inlineDepth < _catalog.MaxInlineDepth)
                {
                    _turnActive = true;
                    runInline = true;
                }
                else
                {
                    schedule = EnqueueWorkLocked(_runQueuedRequest, request);
                }
            }
            else
            {
                _waiting.Enqueue(request);
            }
        }
        if (runInline) RunInline(request);
        else if (schedule) ScheduleDrain();
        return true;
    }

    private bool MayInvoke(GrainMethodOptions options)
    {
        if (_running == 0) return true;
        if (_class.IsReentrant) return true;
        if ((options & GrainMethodOptions.AlwaysInterleave) != 0) return true;
        return (options & GrainMethodOptions.ReadOnly) != 0 && _runningNonReadOnly == 0;
    }

    private void Admit(GrainMethodOptions options)
    {
        _running++;
        if ((options & GrainMethodOptions.ReadOnly) == 0) _runningNonReadOnly++;
    }

    private void RunInline(GrainRequest request)
    {
        var previousContext = Current;
        var previousRequestContext = RequestContext.Export();
        var outerInlineRequest = t_inlineRequest;
        SetSynchronizationContext(this);
        t_inlineDepth++;
        t_inlineRequest = request;
        try
        {
            Execute(request);
        }
        finally
        {
            t_inlineDepth--;
            RequestContext.Import(previousRequestContext);
            SetSynchronizationContext(previousContext);
            // When the request completed synchronously, its completion already ended the turn (one lock instead of two).
            var endTurn = t_inlineRequest == request;
            t_inlineRequest = outerInlineRequest;
            if (endTurn) EndTurn();
        }
    }

    private void RunQueuedRequest(object? state)
    {
        var request = (GrainRequest)state!;
        if (request.ExpiresAtTimestamp != 0 && Time.GetTimestamp() > request.ExpiresAtTimestamp)
        {
            // The caller has already been told about the timeout: do not run work nobody waits for.
            RuntimeLog.ExpiredCallDropped(_catalog.Logger, request.Method.ToString(), GrainId);
            OnRequestCompleted(request);
            request.Fail(new TimeoutException($"Call {request.Method} to {GrainId} expired before it started."));
            return;
        }
        Execute(request);
        RequestContext.Import(null);
    }

    private void Execute(GrainRequest request)
    {
        RequestContext.Import(request.Context);
        if (_catalog.IncomingFilters.Length > 0 || _class.HasOwnIncomingFilter)
            _ = RunWithFiltersAsync(request);
        else
            request.Run(_grain!, this);
    }

    private async Task RunWithFiltersAsync(GrainRequest request)
    {
        var context = new IncomingCallContext(GrainId, request, _grain!, _catalog.IncomingFilters);
        try
        {
            await context.Invoke();
        }
        catch (Exception exception)
        {
            OnRequestCompleted(request);
            request.Fail(exception);
            return;
        }
        OnRequestCompleted(request);
        request.SetBoxedResult(context.Result);
    }

    /// <inheritdoc/>
    public void OnRequestCompleted(GrainRequest request)
    {
        _catalog.Instruments.RecordRequest(request.StartTimestamp);
        var endsInlineTurn = t_inlineRequest == request;
        if (endsInlineTurn) t_inlineRequest = null;
        OnWorkCompleted(request.Method.Options, endsInlineTurn);
    }

    private void OnWorkCompleted(GrainMethodOptions options, bool endsInlineTurn = false)
    {
        bool schedule = false, deactivate = false;
        lock (_lock)
        {
            if (endsInlineTurn)
            {
                // Nothing of this request runs any more on this thread: hand the turn on now.
                if (_work.Count == 0) _turnActive = false;
                else schedule = true;
            }
            _running--;
            if ((options & GrainMethodOptions.ReadOnly) == 0) _runningNonReadOnly--;
            if (_state == Lifecycle.Valid)
            {
                if (_deactivateOnIdle && _running == 0)
                {
                    deactivate = BeginDeactivationLocked(_deactivationReason);
                }
                else
                {
                    schedule |= AdmitWaitingLocked();
                }
            }
        }
        if (schedule) ScheduleDrain();
        if (deactivate) Post(static s => _ = ((ActivationData)s!).DeactivateAsync(), this);
    }

    /// <summary>Admits waiting requests (in order) while the interleaving rules allow; true when a drain must be scheduled.</summary>
    private bool AdmitWaitingLocked()
    {
        var schedule = false;
        while (_waiting.Count > 0)
        {
            var next = _waiting.Peek();
            var options = next is GrainRequest request ? request.Method.Options : GrainMethodOptions.None;
            if (!MayInvoke(options)) break;
            _waiting.Dequeue();
            Admit(options);
            schedule |= next is GrainRequest r
                ? EnqueueWorkLocked(_runQueuedRequest, r)
                : EnqueueWorkLocked(_runQueuedTimerTick, next);
        }
        return schedule;
    }

    // ---------------------------------------------------------------- timers

    public IDisposable RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new GrainTimer(this, callback, dueTime, period);
        lock (_lock)
        {
            if (_state is Lifecycle.Deactivating or Lifecycle.Invalid)
            {
                timer.Dispose();
                return timer;
            }
            (_timers ??= []).Add(timer);
        }
        timer.Start();
        return timer;
    }

    internal void RemoveTimer(GrainTimer timer)
    {
        lock (_lock) _timers?.Remove(timer);
    }

    /// <summary>A timer is due: queue its tick as a turn that follows the same interleaving rules as a plain request.</summary>
    internal void SubmitTimerTick(GrainTimer timer)
    {
        var schedule = false;
        lock (_lock)
        {
            if (_state is Lifecycle.Deactivating or Lifecycle.Invalid) return;
            // A timer registered in OnActivateAsync may fall due before activation ends: it waits like a call.
            if (_state == Lifecycle.Valid && _waiting.Count == 0 && MayInvoke(GrainMethodOptions.None))
            {
                Admit(GrainMethodOptions.None);
                schedule = EnqueueWorkLocked(_runQueuedTimerTick, timer);
            }
            else
            {
                _waiting.Enqueue(timer);
            }
        }
        if (schedule) ScheduleDrain();
    }

    private void RunQueuedTimerTick(object? state) => _ = RunTimerTickAsync((GrainTimer)state!);

    private async Task RunTimerTickAsync(GrainTimer timer)
    {
        try
        {
            await timer.TickAsync();
        }
        catch (Exception exception)
        {
            RuntimeLog.TimerFailed(_catalog.Logger, GrainId, exception);
        }
        finally
        {
            OnWorkCompleted(GrainMethodOptions.None);
            timer.ScheduleNext();
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /// <summary>Starts activation as the first turn; requests queue until it completes.</summary>
    public void StartActivation()
    {
        Post(static s => _ = ((ActivationData)s!).ActivateAsync(), this);
    }

    private async Task ActivateAsync()
    {
        using var timeout = new CancellationTokenSource(_catalog.CollectionOptions.ActivationTimeout, Time);
        try
        {
            _grain = _class.Create(_catalog.Services, GrainId, _catalog.StateContext, out _states);
            if (_grain is Grain grain) grain.GrainContext = this;
            foreach (var state in _states) await state.ReadStateAsync(timeout.Token);
            if (_grain is Grain activated) await activated.OnActivateAsync(timeout.Token);
        }
        catch (Exception exception)
        {
            var error = exception is OperationCanceledException && timeout.IsCancellationRequested
                ? new TimeoutException($"Activation of {GrainId} did not finish within {_catalog.CollectionOptions.ActivationTimeout} (GrainCollectionOptions.ActivationTimeout).", exception)
                : exception;
            RuntimeLog.ActivationFailed(_catalog.Logger, GrainId, error);
            _catalog.Instruments.ActivationFailures.Add(1, new KeyValuePair<string, object?>("grain.type", GrainId.Type));
            List<object> rejected;
            lock (_lock)
            {
                _state = Lifecycle.Invalid;
                rejected = [.. _waiting];
                _waiting.Clear();
            }
            _catalog.Remove(this);
            foreach (var item in rejected)
                if (item is GrainRequest request) request.Fail(error);
            _deactivated.TrySetResult();
            return;
        }

        _catalog.Instruments.Activations.Add(1, new KeyValuePair<string, object?>("grain.type", GrainId.Type));
        _catalog.Instruments.ActivationsCreated.Add(1, new KeyValuePair<string, object?>("grain.type", GrainId.Type));
        RuntimeLog.Activated(_catalog.Logger, GrainId);
        bool schedule, deactivate = false;
        lock (_lock)
        {
            _state = Lifecycle.Valid;
            _lastActive = Time.GetUtcNow();
            if (_deactivateOnIdle && _running == 0 && _waiting.Count == 0)
            {
                deactivate = BeginDeactivationLocked(_deactivationReason);
                schedule = false;
            }
            else
            {
                schedule = AdmitWaitingLocked();
            }
        }
        if (schedule) ScheduleDrain();
        if (deactivate) _ = DeactivateAsync();
    }

    public void DeactivateOnIdle() => RequestDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called."));

    /// <summary>Deactivates as soon as no request runs (immediately when idle).</summary>
    public void RequestDeactivation(DeactivationReason reason)
    {
        bool deactivate;
        lock (_lock)
        {
            if (_state is Lifecycle.Deactivating or Lifecycle.Invalid) return;
            _deactivateOnIdle = true;
            _deactivationReason = reason;
            deactivate = _state == Lifecycle.Valid && _running == 0 && BeginDeactivationLocked(reason);
        }
        if (deactivate) Post(static s => _ = ((ActivationData)s!).DeactivateAsync(), this);
    }

    /// <summary>Called by the collector each quantum: deactivates when idle for the class's age, else <paramref name="siloAge"/>.</summary>
    public bool CollectIfIdle(DateTimeOffset now, TimeSpan siloAge)
    {
        if (_class.KeepAlive) return false;
        var age = _class.CollectionAge ?? siloAge;
        lock (_lock)
        {
            if (_state != Lifecycle.Valid) return false;
            if (_touched || _running > 0 || _waiting.Count > 0)
            {
                _touched = false;
                _lastActive = now;
                return false;
            }
            if (now - _lastActive < age) return false;
            if (!BeginDeactivationLocked(new DeactivationReason(DeactivationReasonCode.IdleCollection, $"No calls for {now - _lastActive}."))) return false;
        }
        Post(static s => _ = ((ActivationData)s!).DeactivateAsync(), this);
        return true;
    }

    private bool BeginDeactivationLocked(DeactivationReason reason)
    {
        if (_state != Lifecycle.Valid) return false;
        _state = Lifecycle.Deactivating;
        _deactivationReason = reason;
        return true;
    }

    private async Task DeactivateAsync()
    {
        List<GrainTimer>? timers;
        lock (_lock)
        {
            timers = _timers;
            _timers = null;
        }
        if (timers is not null)
            foreach (var timer in timers) timer.Dispose();

        if (_grain is Grain grain)
        {
            using var timeout = new CancellationTokenSource(_catalog.CollectionOptions.DeactivationTimeout, Time);
            try
            {
                await grain.OnDeactivateAsync(_deactivationReason, timeout.Token);
            }
            catch (Exception exception)
            {
                RuntimeLog.DeactivationFailed(_catalog.Logger, GrainId, exception);
            }
        }

        // Leave the catalog before refusing new requests, so a caller never spins on this activation.
        _catalog.Remove(this);
        List<object> forwarded;
        lock (_lock)
        {
            _state = Lifecycle.Invalid;
            forwarded = [.. _waiting];
            _waiting.Clear();
        }
        _catalog.Instruments.Activations.Add(-1, new KeyValuePair<string, object?>("grain.type", GrainId.Type));
        RuntimeLog.Deactivated(_catalog.Logger, GrainId, _deactivationReason.Code);
        _deactivated.TrySetResult();
        // Calls that arrived during deactivation go to a fresh activation, which reads the state written above.
        foreach (var item in forwarded)
            if (item is GrainRequest request) _catalog.Resubmit(GrainId, request);
    }

    // ---------------------------------------------------------------- turn scheduler

    /// <summary>Queues a work item; true when the caller must schedule a drain (no turn was active).</summary>
    private bool EnqueueWorkLocked(SendOrPostCallback callback, object? state)
    {
        _work.Enqueue((callback, state));
        if (_turnActive) return false;
        _turnActive = true;
        return true;
    }

    private void ScheduleDrain() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    private void EndTurn()
    {
        lock (_lock)
        {
            if (_work.Count == 0)
            {
                _turnActive = false;
                return;
            }
        }
        ScheduleDrain();
    }

    /// <inheritdoc/>
    public override void Post(SendOrPostCallback d, object? state)
    {
        bool schedule;
        lock (_lock) schedule = EnqueueWorkLocked(d, state);
        if (schedule) ScheduleDrain();
    }

    /// <inheritdoc/>
    public override void Send(SendOrPostCallback d, object? state)
        => throw new NotSupportedException("Grain activations do not support synchronous Send; use await.");

    /// <inheritdoc/>
    public override SynchronizationContext CreateCopy() => this;

    void IThreadPoolWorkItem.Execute()
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            for (var processed = 0; processed < MaxItemsPerDrain; processed++)
            {
                (SendOrPostCallback Callback, object? State) item;
                lock (_lock)
                {
                    if (_work.Count == 0)
                    {
                        _turnActive = false;
                        return;
                    }
                    item = _work.Dequeue();
                }
                var started = Stopwatch.GetTimestamp();
                try
                {
                    item.Callback(item.State);
                }
                catch (Exception exception)
                {
                    RuntimeLog.TurnFailed(_catalog.Logger, GrainId, exception);
                }
                var elapsed = Stopwatch.GetTimestamp() - started;
                if (elapsed > _catalog.TurnWarningThresholdTicks)
                    RuntimeLog.LongTurn(_catalog.Logger, GrainId, Stopwatch.GetElapsedTime(started, started + elapsed));
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
        // Fairness: give other activations the thread, keep this turn marked active and come back later.
        ScheduleDrain();
    }

    public override string ToString() => $"Activation {GrainId}";
}
