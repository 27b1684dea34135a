using System.Buffers;
using Granary.Runtime.Invocation;
using Granary.Runtime.Messaging;
using Granary.Runtime.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Runtime.Tests;

/// <summary>
/// Proves the cluster seam: a router that sends every call "remotely" through bytes (arguments, request context,
/// result or exception), using only what the generated code and the runtime's public plumbing provide.
/// </summary>
public sealed class RemoteSeamTests
{
    [Fact]
    public async Task Calls_through_a_byte_transport_carry_arguments_results_context_and_exceptions()
    {
        var transport = new LoopbackTransport();
        await using var silo = await TestSilo.StartAsync(services: s => s.AddSingleton<IGrainCallRouter>(transport));
        transport.Local = silo.Services.GetRequiredService<ILocalGrainInvoker>();
        transport.Invoker = silo.Services.GetRequiredService<IGrainCallInvoker>();
        var calls = silo.Grains.GetGrain<ICallsGrain>(Guid.NewGuid().ToString());

        var when = new DateTimeOffset(2026, 11, 22, 1, 2, 3, TimeSpan.FromHours(-5));
        var id = Guid.NewGuid();
        var payload = new Payload("p", [1, 2, 3], new Dictionary<string, double> { ["x"] = 1.5 });
        var echoed = await calls.Echo(payload, Color.Green, when, TimeSpan.FromSeconds(90), id, [0xCA, 0xFE], ["a", "b"], 7, null, [Color.Red, Color.Green]);
        Assert.Equal($"p|Green|{when:O}|00:01:30|{id}|CAFE|a,b|7|null|Red,Green", echoed.Name);
        Assert.Equal([1, 2, 3], echoed.Numbers);
        Assert.Equal(1.5, echoed.Scores["x"]);

        Assert.Equal(10m + 5 + 'z' + 2.5m, await calls.Sum([4m, 6m], new DateTime(2026, 1, 5), 'z', 2.5));

        RequestContext.Set("trace", "over-the-wire");
        try
        {
            Assert.Equal("over-the-wire", await calls.ReadContext("trace"));
        }
        finally
        {
            RequestContext.Clear();
        }

        var counter = silo.Grains.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());
        Assert.Equal(4, await calls.AddThrough(counter, 4));
        var returned = await calls.Pass(counter);
        Assert.Equal(4, await returned!.Get());
        Assert.Null(await calls.Pass(null));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => calls.Fail("bad input 'q'"));
        Assert.Equal("bad input 'q'", error.Message);
        Assert.True(transport.Messages >= 4, "calls did not go through the transport");
    }

    [Fact]
    public void Requests_are_found_by_stable_interface_and_method_ids()
    {
        var descriptor = GrainInterfaceRegistry.Find(typeof(ICounterGrain))!;
        Assert.Equal("Granary.Runtime.Tests.ICounterGrain", descriptor.InterfaceName);
        var add = descriptor.Methods.Single(m => m.MethodName == "Add");
        var request = GrainInterfaceRegistry.CreateRequest(descriptor.InterfaceId, add.MethodId);
        Assert.Same(add, request.Method);
        Assert.Throws<InvalidOperationException>(() => GrainInterfaceRegistry.CreateRequest(descriptor.InterfaceId, add.MethodId + 1));
    }

    /// <summary>Serializes each request, rebuilds it from bytes as the receiving silo would, runs it and returns the response bytes.</summary>
    private sealed class LoopbackTransport : IGrainCallRouter, IGrainCallTransport
    {
        public ILocalGrainInvoker? Local { get; set; }
        public IGrainCallInvoker? Invoker { get; set; }
        public int Messages;

        public IGrainCallTransport? SelectRemote(GrainId grainId) => this;

        public ValueTask<TResult> InvokeAsync<TResult>(GrainId target, GrainRequest<TResult> request)
        {
            _ = RoundTripAsync(target, request);
            return request.AsValueTask();
        }

        public void SendOneWay(GrainId target, GrainRequest request) => _ = RoundTripAsync(target, request);

        private async Task RoundTripAsync(GrainId target, GrainRequest request)
        {
            Interlocked.Increment(ref Messages);
            var message = new ArrayBufferWriter<byte>();
            var writer = new GrainWriter(message);
            writer.WriteInt32(request.Method.InterfaceId);
            writer.WriteInt32(request.Method.MethodId);
            RequestContextCodec.Write(writer, request.Context);
            request.WriteArguments(writer);
            var bytes = message.WrittenMemory.ToArray();

            await Task.Yield(); // "the network"

            var received = Receive(bytes, Invoker!);
            var response = new ArrayBufferWriter<byte>();
            await received.InvokeAndWriteResponseAsync(Local!, target, response);
            request.CompleteFromResponse(response.WrittenSpan, Invoker);
        }

        private static GrainRequest Receive(byte[] bytes, IGrainCallInvoker invoker)
        {
            var reader = new GrainReader(bytes) { Invoker = invoker };
            var request = GrainInterfaceRegistry.CreateRequest(reader.ReadInt32(), reader.ReadInt32());
            request.Context = RequestContextCodec.Read(ref reader);
            request.ReadArguments(ref reader);
            Assert.Equal(0, reader.Remaining);
            return request;
        }
    }
}
