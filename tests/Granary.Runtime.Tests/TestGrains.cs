using System.Collections.Concurrent;
using Granary.Runtime;

namespace Granary.Runtime.Tests;

// ---------------------------------------------------------------- persistence and identity

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);
    ValueTask<int> Get();
    Task Reset();
    Task<Guid> ActivationId();
    Task Deactivate();
}

public sealed class CounterState
{
    public int Value { get; set; }
}

public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    private readonly Guid _activationId = Guid.NewGuid();
    public static readonly ConcurrentDictionary<string, int> ValueSeenOnActivate = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ValueSeenOnActivate[GetPrimaryKeyString()] = state.State.Value;
        return Task.CompletedTask;
    }

    public async Task<int> Add(int amount)
    {
        state.State.Value += amount;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public ValueTask<int> Get() => new(state.State.Value);
    public Task Reset() => state.ClearStateAsync();
    public Task<Guid> ActivationId() => Task.FromResult(_activationId);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public interface IIntegerKeyGrain : IGrainWithIntegerKey
{
    Task<long> Key();
}

public sealed class IntegerKeyGrain : Grain, IIntegerKeyGrain
{
    public Task<long> Key() => Task.FromResult(GetPrimaryKeyLong());
}

// ---------------------------------------------------------------- turns and interleaving

/// <summary>Records how many calls overlap, and whether two threads ever ran grain code at once.</summary>
public interface IConcurrencyProbe : IGrainWithStringKey
{
    Task Work(int delayMs);
    [ReadOnly] Task ReadWork(int delayMs);
    [AlwaysInterleave] Task InterleavedWork(int delayMs);
    Task<int> MaxConcurrentCalls();
    Task<bool> ThreadsOverlapped();
}

public interface ISerialGrain : IConcurrencyProbe;
public interface IReentrantGrain : IConcurrencyProbe;

public abstract class ConcurrencyProbeGrain : Grain, IConcurrencyProbe
{
    private int _inside;
    private int _max;
    private int _threadsInside;
    private bool _threadsOverlapped;

    public Task Work(int delayMs) => Run(delayMs);
    public Task ReadWork(int delayMs) => Run(delayMs);
    public Task InterleavedWork(int delayMs) => Run(delayMs);
    public Task<int> MaxConcurrentCalls() => Task.FromResult(_max);
    public Task<bool> ThreadsOverlapped() => Task.FromResult(_threadsOverlapped);

    private async Task Run(int delayMs)
    {
        _inside++;
        _max = Math.Max(_max, _inside);
        for (var i = 0; i < 3; i++)
        {
            CheckSingleThread();
            await Task.Delay(delayMs / 3 + 1);
        }
        CheckSingleThread();
        _inside--;
    }

    private void CheckSingleThread()
    {
        if (Interlocked.Increment(ref _threadsInside) > 1) _threadsOverlapped = true;
        Thread.SpinWait(2000);
        Interlocked.Decrement(ref _threadsInside);
    }
}

public sealed class SerialGrain : ConcurrencyProbeGrain, ISerialGrain;

[Reentrant]
public sealed class ReentrantGrain : ConcurrencyProbeGrain, IReentrantGrain;

/// <summary>A calls B, B calls A back: a deadlock unless A is reentrant.</summary>
public interface IChainBase : IGrainWithStringKey
{
    Task<string> Start(string otherKey);
    Task<string> CallBack(string callerKey, bool callerIsReentrant);
    Task<string> Ping();
}

public interface IChainGrain : IChainBase;
public interface IReentrantChainGrain : IChainBase;

public abstract class ChainBaseGrain : Grain, IChainBase
{
    public Task<string> Start(string otherKey)
        => GrainFactory.GetGrain<IChainGrain>(otherKey).CallBack(GetPrimaryKeyString(), this is ReentrantChainGrain);

    public Task<string> CallBack(string callerKey, bool callerIsReentrant)
        => callerIsReentrant
            ? GrainFactory.GetGrain<IReentrantChainGrain>(callerKey).Ping()
            : GrainFactory.GetGrain<IChainGrain>(callerKey).Ping();

    public Task<string> Ping() => Task.FromResult("pong from " + GetPrimaryKeyString());
}

public sealed class ChainGrain : ChainBaseGrain, IChainGrain;

[Reentrant]
public sealed class ReentrantChainGrain : ChainBaseGrain, IReentrantChainGrain;

// ---------------------------------------------------------------- lifecycle, collection, timers

public interface ILifecycleGrain : IGrainWithStringKey
{
    Task<Guid> ActivationId();
    [ResponseTimeout("01:00:00")] Task Block(string gate);
}

public sealed class LifecycleGrain : Grain, ILifecycleGrain
{
    public static readonly ConcurrentDictionary<string, DeactivationReasonCode> Deactivations = new();
    private readonly Guid _id = Guid.NewGuid();

    public Task<Guid> ActivationId() => Task.FromResult(_id);
    public Task Block(string gate) => Gates.Wait(gate);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Deactivations[GetPrimaryKeyString()] = reason.Code;
        return Task.CompletedTask;
    }
}

public interface ITimerGrain : IGrainWithStringKey
{
    Task StartTimer(TimeSpan dueTime, TimeSpan period, string gatePrefix);
    Task Deactivate();
}

public sealed class TimerGrain : Grain, ITimerGrain
{
    public static readonly ConcurrentDictionary<string, int> Ticks = new();
    public static readonly ConcurrentDictionary<string, int> MaxOverlap = new();
    private int _running;

    public Task StartTimer(TimeSpan dueTime, TimeSpan period, string gatePrefix)
    {
        var key = GetPrimaryKeyString();
        RegisterGrainTimer(async _ =>
        {
            var tick = Ticks.AddOrUpdate(key, 1, (_, n) => n + 1);
            _running++;
            MaxOverlap.AddOrUpdate(key, _running, (_, m) => Math.Max(m, _running));
            await Gates.Wait($"{gatePrefix}/{tick}");
            _running--;
        }, dueTime, period);
        return Task.CompletedTask;
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

// ---------------------------------------------------------------- calls

public enum Color : byte { Red = 1, Green = 2 }

public sealed record Payload(string Name, int[] Numbers, Dictionary<string, double> Scores);

public interface ICallsGrain : IGrainWithStringKey
{
    Task Fail(string message);
    [ResponseTimeout("00:00:00.300")] Task<string> Slow(int delayMs);
    Task<string> Fast();
    [OneWay] Task FireAndForget(string gate);
    [OneWay] Task FireAndFail();
    Task<string?> ReadContext(string key);
    Task<string?> SetContextAndCallOther(string otherKey, string key, string value);
    Task<Payload> Echo(Payload payload, Color color, DateTimeOffset when, TimeSpan span, Guid id, byte[] bytes, List<string> names, int? maybe, long[]? none, Color[] colors);
    ValueTask<decimal> Sum(IReadOnlyList<decimal> values, DateTime at, char c, double? d);
    Task<int> AddThrough(ICounterGrain counter, int amount);
    Task<ICounterGrain?> Pass(ICounterGrain? counter);
}

public sealed class CallsGrain : Grain, ICallsGrain
{
    public static readonly ConcurrentDictionary<string, int> OneWayCompleted = new();

    public Task Fail(string message) => throw new ArgumentException(message);

    public async Task<string> Slow(int delayMs)
    {
        await Task.Delay(delayMs);
        return "late";
    }

    public Task<string> Fast() => Task.FromResult("fast");

    public async Task FireAndForget(string gate)
    {
        await Gates.Wait(gate);
        OneWayCompleted.AddOrUpdate(GetPrimaryKeyString(), 1, (_, n) => n + 1);
    }

    public Task FireAndFail() => throw new InvalidOperationException("one-way failure");

    public Task<string?> ReadContext(string key) => Task.FromResult(RequestContext.Get(key) as string);

    public async Task<string?> SetContextAndCallOther(string otherKey, string key, string value)
    {
        RequestContext.Set(key, value);
        return await GrainFactory.GetGrain<ICallsGrain>(otherKey).ReadContext(key);
    }

    public Task<Payload> Echo(Payload payload, Color color, DateTimeOffset when, TimeSpan span, Guid id, byte[] bytes, List<string> names, int? maybe, long[]? none, Color[] colors)
        => Task.FromResult(payload with
        {
            Name = $"{payload.Name}|{color}|{when:O}|{span}|{id}|{Convert.ToHexString(bytes)}|{string.Join(",", names)}|{maybe}|{(none is null ? "null" : "set")}|{string.Join(",", colors)}",
        });

    public ValueTask<decimal> Sum(IReadOnlyList<decimal> values, DateTime at, char c, double? d)
        => new(values.Sum() + at.Day + c + (decimal)(d ?? 0));

    public Task<int> AddThrough(ICounterGrain counter, int amount) => counter.Add(amount);

    public Task<ICounterGrain?> Pass(ICounterGrain? counter) => Task.FromResult(counter);
}

// ---------------------------------------------------------------- filters and stateless workers

public interface IFilteredGrain : IGrainWithStringKey
{
    Task<string> Hello(string name);
}

public sealed class FilteredGrain : Grain, IFilteredGrain, IIncomingGrainCallFilter
{
    public static readonly ConcurrentQueue<string> Log = new();

    public Task<string> Hello(string name)
    {
        Log.Enqueue("method");
        return Task.FromResult("hello " + name);
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        Log.Enqueue("grain-filter:" + context.Method.MethodName);
        await context.Invoke();
        context.Result = context.Result + "!";
    }
}

public interface IWorkerGrain : IGrainWithStringKey
{
    Task<Guid> Work(int delayMs);
}

[StatelessWorker(2)]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    private readonly Guid _id = Guid.NewGuid();

    public async Task<Guid> Work(int delayMs)
    {
        await Task.Delay(delayMs);
        return _id;
    }
}

public interface IEarlyTimerGrain : IGrainWithStringKey
{
    Task<int> Ticks();
}

/// <summary>Registers a due-now timer while still activating; the tick must wait for activation, not be lost.</summary>
public sealed class EarlyTimerGrain : Grain, IEarlyTimerGrain
{
    private int _ticks;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RegisterGrainTimer(_ =>
        {
            _ticks++;
            return Task.CompletedTask;
        }, TimeSpan.Zero, TimeSpan.FromMilliseconds(20));
        await Task.Delay(100, cancellationToken);
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);
}

public interface IShortLivedGrain : IGrainWithStringKey
{
    Task Touch();
}

public interface IKeptAliveGrain : IGrainWithStringKey
{
    Task Touch();
}

/// <summary>Records its deactivation reason where the collection test looks.</summary>
public abstract class RecordsDeactivationGrain : Grain
{
    public Task Touch() => Task.CompletedTask;

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        LifecycleGrain.Deactivations[GetPrimaryKeyString()] = reason.Code;
        return Task.CompletedTask;
    }
}

[CollectionAgeLimit("00:02:00")]
public sealed class ShortLivedGrain : RecordsDeactivationGrain, IShortLivedGrain;

[KeepAlive]
public sealed class KeptAliveGrain : RecordsDeactivationGrain, IKeptAliveGrain;

public interface IBlockingGrain : IGrainWithStringKey
{
    Task SleepAfterYield(int milliseconds);
}

public sealed class BlockingGrain : Grain, IBlockingGrain
{
    public async Task SleepAfterYield(int milliseconds)
    {
        await Task.Yield(); // the rest runs as a queued turn of the activation
        Thread.Sleep(milliseconds);
    }
}

public interface IFlakyActivationGrain : IGrainWithStringKey
{
    Task<string> Hello();
}

/// <summary>Fails its first activation (per key), succeeds afterwards.</summary>
public sealed class FlakyActivationGrain : Grain, IFlakyActivationGrain
{
    public static readonly ConcurrentDictionary<string, int> Attempts = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
        => Attempts.AddOrUpdate(GetPrimaryKeyString(), 1, (_, n) => n + 1) == 1
            ? throw new InvalidOperationException("cannot activate yet")
            : Task.CompletedTask;

    public Task<string> Hello() => Task.FromResult("hello");
}
