using System.Diagnostics.Metrics;
using Granary.Runtime.Diagnostics;

namespace Granary.Runtime.Tests;

public sealed class CallTests
{
    [Fact]
    public async Task Exceptions_reach_the_caller_with_type_and_message_and_the_activation_survives()
    {
        await using var silo = await TestSilo.StartAsync();
        var counter = silo.Grains.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());
        var activation = await counter.ActivationId();
        var calls = silo.Grains.GetGrain<ICallsGrain>(Guid.NewGuid().ToString());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => calls.Fail("amount -3 is negative"));
        Assert.Equal("amount -3 is negative", error.Message);
        Assert.Equal("fast", await calls.Fast());
        Assert.Equal(activation, await counter.ActivationId());
    }

    [Fact]
    public async Task A_slow_call_raises_TimeoutException_at_the_caller_and_its_late_reply_is_dropped()
    {
        long timeouts = 0;
        using var listener = ListenTo("granary-app-requests-timedout", v => Interlocked.Add(ref timeouts, v));
        await using var silo = await TestSilo.StartAsync();
        var calls = silo.Grains.GetGrain<ICallsGrain>(Guid.NewGuid().ToString());

        // The reply comes 3 s after the 300 ms timeout: a wide margin for a timer on a loaded CI machine.
        var error = await Assert.ThrowsAsync<TimeoutException>(() => calls.Slow(3000));
        Assert.Contains("Slow", error.Message);
        Assert.Contains("00:00:00.3", error.Message);
        // The late reply is dropped; the grain keeps serving (Fast queues behind Slow's turn, then runs).
        Assert.Equal("fast", await calls.Fast());
        Assert.True(Interlocked.Read(ref timeouts) >= 1, "the timeout counter did not move");
    }

    [Fact]
    public async Task Default_response_timeout_is_thirty_seconds()
    {
        await using var silo = await TestSilo.StartAsync();
        var options = (Microsoft.Extensions.Options.IOptions<Configuration.MessagingOptions>)silo.Services.GetService(typeof(Microsoft.Extensions.Options.IOptions<Configuration.MessagingOptions>))!;
        Assert.Equal(TimeSpan.FromSeconds(30), options.Value.ResponseTimeout);
    }

    [Fact]
    public async Task One_way_calls_return_before_the_grain_finishes_and_hide_its_errors()
    {
        await using var silo = await TestSilo.StartAsync();
        var key = Guid.NewGuid().ToString();
        var gate = "oneway-" + key;
        var calls = silo.Grains.GetGrain<ICallsGrain>(key);

        var sent = calls.FireAndForget(gate);
        Assert.True(sent.IsCompletedSuccessfully, "a one-way call must not wait for the grain");
        await calls.FireAndFail();
        Assert.False(CallsGrain.OneWayCompleted.ContainsKey(key));
        Gates.Open(gate);
        await Eventually.True(() => CallsGrain.OneWayCompleted.ContainsKey(key), "the one-way call to run");
    }

    [Fact]
    public async Task Request_context_flows_downstream_only()
    {
        await using var silo = await TestSilo.StartAsync();
        var a = silo.Grains.GetGrain<ICallsGrain>("a-" + Guid.NewGuid());
        var bKey = "b-" + Guid.NewGuid();
        RequestContext.Set("trace", "t-1");
        try
        {
            Assert.Equal("t-1", await a.ReadContext("trace"));
            Assert.Equal("from-a", await a.SetContextAndCallOther(bKey, "added-by-a", "from-a"));
            Assert.Null(RequestContext.Get("added-by-a"));
            Assert.Equal("t-1", RequestContext.Get("trace"));
        }
        finally
        {
            RequestContext.Clear();
        }
        Assert.Null(await silo.Grains.GetGrain<ICallsGrain>(bKey).ReadContext("trace"));
    }

    [Fact]
    public async Task Incoming_filters_run_in_order_then_the_grain_filter_then_the_method_and_outgoing_filters_run_on_the_caller()
    {
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var silo = await TestSilo.StartAsync(silo => silo
            .AddIncomingGrainCallFilter(new RecordingIncomingFilter("first", log))
            .AddIncomingGrainCallFilter(new RecordingIncomingFilter("second", log))
            .AddOutgoingGrainCallFilter(new RecordingOutgoingFilter(log)));
        FilteredGrain.Log.Clear();

        var result = await silo.Grains.GetGrain<IFilteredGrain>(Guid.NewGuid().ToString()).Hello("ana");

        Assert.Equal("hello ana!", result);
        Assert.Equal(["outgoing:Hello", "first:Hello", "second:Hello"], log.ToArray());
        Assert.Equal(["grain-filter:Hello", "method"], FilteredGrain.Log.ToArray());
    }

    [Fact]
    public async Task Metrics_count_activations_by_grain_type_calls_and_storage_writes()
    {
        var activations = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        long requests = 0, storageWrites = 0, storageErrors = 0;
        await using var silo = await TestSilo.StartAsync();
        // Other tests run silos in parallel: listen to this silo's meter only.
        var meter = ((RuntimeInstruments)silo.Services.GetService(typeof(RuntimeInstruments))!).Meter;
        Assert.Equal(RuntimeInstruments.MeterName, meter.Name);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "granary-catalog-activations")
                foreach (var tag in tags)
                    if (tag.Key == "grain.type") activations.AddOrUpdate((string)tag.Value!, value, (_, v) => v + value);
            if (instrument.Name == "granary-app-requests") Interlocked.Add(ref requests, value);
            if (instrument.Name == "granary-storage-write-errors") Interlocked.Add(ref storageErrors, value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "granary-storage-write-latency")
                foreach (var tag in tags)
                    if (tag.Key == "storage.provider" && (string)tag.Value! == "Default") Interlocked.Increment(ref storageWrites);
        });
        listener.Start();

        for (var i = 0; i < 3; i++) await silo.Grains.GetGrain<ICallsGrain>(Guid.NewGuid().ToString()).Fast();

        Assert.Equal(3, activations[typeof(CallsGrain).FullName!]);
        Assert.True(Interlocked.Read(ref requests) >= 3);

        var counter = silo.Grains.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());
        await counter.Add(1);
        await counter.Add(1);
        Assert.Equal(2, Interlocked.Read(ref storageWrites));
        Assert.Equal(0, Interlocked.Read(ref storageErrors));
    }

    private static MeterListener ListenTo(string instrumentName, Action<long> onValue)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RuntimeInstruments.MeterName && instrument.Name == instrumentName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => onValue(value));
        listener.Start();
        return listener;
    }

    private sealed class RecordingIncomingFilter(string name, System.Collections.Concurrent.ConcurrentQueue<string> log) : IIncomingGrainCallFilter
    {
        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.Grain is FilteredGrain) log.Enqueue($"{name}:{context.Method.MethodName}");
            await context.Invoke();
        }
    }

    private sealed class RecordingOutgoingFilter(System.Collections.Concurrent.ConcurrentQueue<string> log) : IOutgoingGrainCallFilter
    {
        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.Method.InterfaceName.EndsWith("IFilteredGrain", StringComparison.Ordinal)) log.Enqueue($"outgoing:{context.Method.MethodName}");
            await context.Invoke();
        }
    }
}
