using System.Buffers;
using System.Net;
using Granary.Runtime;
using Granary.Runtime.Cluster;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Cluster.Tests;

public sealed class TransportTests : IAsyncLifetime
{
    private sealed class EchoHandler : IIncomingMessageHandler
    {
        public volatile bool Silent;
        public int Received;

        public void OnRequest(Message request, InboundConnection connection)
        {
            Interlocked.Increment(ref Received);
            if (Silent || request.Header.Kind == MessageKind.OneWayRequest) return;
            // Echo the grain key and the body back.
            var body = new EchoBody(request.Header.Target.Key, request.Body);
            connection.SendResponse(request.Header.CorrelationId, ResultKind.Success, body);
        }

        public void OnMembershipChanged() { }
    }

    private readonly struct EchoBody(string key, ReadOnlyMemory<byte> body) : IFrameBody
    {
        public void WriteTo(IBufferWriter<byte> writer)
        {
            FrameCodec.WriteString(writer, key);
            writer.Write(body.Span);
        }
    }

    private readonly ClusterOptions _options = new() { ClusterId = "transport-test", ConnectTimeout = TimeSpan.FromSeconds(2) };
    private readonly EchoHandler _handler = new();
    private TransportListener _listener = null!;
    private SiloConnector _connector = null!;
    private SiloAddress _silo = null!;

    public Task InitializeAsync()
    {
        _listener = new TransportListener(new IPEndPoint(IPAddress.Loopback, 0), _options.ClusterId, _handler, NullLogger.Instance);
        _silo = SiloAddress.New("127.0.0.1", _listener.Endpoint.Port);
        _listener.LocalSilo = _silo;
        _listener.Start();
        _connector = new SiloConnector(_options, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _connector.DisposeAsync();
        await _listener.DisposeAsync();
    }

    private static MessageHeader Request(string key) => new()
    {
        Kind = MessageKind.Request,
        InterfaceId = 7,
        MethodId = 42,
        Target = new GrainId("echo", key),
    };

    [Fact]
    public async Task Concurrent_requests_get_their_own_responses_matched_by_correlation_id()
    {
        var calls = Enumerable.Range(0, 2000).Select(async i =>
        {
            var payload = BitConverter.GetBytes(i);
            var reply = await _connector.CallAsync(_silo, Request("k" + i), new BytesBody(payload), TimeSpan.FromSeconds(10), "echo");
            var span = reply.Body.Span;
            var key = FrameCodec.ReadString(ref span);
            return (i, key, value: BitConverter.ToInt32(span));
        });
        foreach (var (i, key, value) in await Task.WhenAll(calls))
        {
            Assert.Equal("k" + i, key);
            Assert.Equal(i, value);
        }
    }

    [Fact]
    public async Task A_call_without_response_times_out_and_the_connection_stays_usable()
    {
        _handler.Silent = true;
        var started = Environment.TickCount64;
        await Assert.ThrowsAsync<TimeoutException>(() =>
            _connector.CallAsync(_silo, Request("slow"), BytesBody.Empty, TimeSpan.FromMilliseconds(300), "slow call"));
        var elapsed = Environment.TickCount64 - started;
        Assert.InRange(elapsed, 250, 2000);

        _handler.Silent = false;
        var reply = await _connector.CallAsync(_silo, Request("after"), BytesBody.Empty, TimeSpan.FromSeconds(5), "echo");
        var span = reply.Body.Span;
        Assert.Equal("after", FrameCodec.ReadString(ref span));
    }

    [Fact]
    public async Task Calls_in_flight_fail_fast_with_SiloUnavailableException_when_the_silo_dies()
    {
        _handler.Silent = true;
        var inFlight = Enumerable.Range(0, 10)
            .Select(i => _connector.CallAsync(_silo, Request("x" + i), BytesBody.Empty, TimeSpan.FromSeconds(30), "call " + i))
            .ToArray();
        while (Volatile.Read(ref _handler.Received) < 10) await Task.Delay(10);

        var started = Environment.TickCount64;
        _listener.Abort();
        foreach (var call in inFlight)
        {
            var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => call);
            Assert.Contains(_silo.ToString(), error.Message);
            Assert.True(error.CallMayHaveRun);
        }
        Assert.True(Environment.TickCount64 - started < 2000, "in-flight calls must fail fast, not wait for their 30 s timeout");

        // The silo is gone: a new call cannot connect and says so.
        var refused = await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            _connector.CallAsync(_silo, Request("late"), BytesBody.Empty, TimeSpan.FromSeconds(5), "late call"));
        Assert.False(refused.CallMayHaveRun);
    }

    [Fact]
    public async Task Breaking_the_connection_to_a_silo_declared_dead_fails_its_calls_at_once()
    {
        _handler.Silent = true;
        var call = _connector.CallAsync(_silo, Request("x"), BytesBody.Empty, TimeSpan.FromSeconds(30), "call");
        while (Volatile.Read(ref _handler.Received) < 1) await Task.Delay(10);
        _connector.BreakConnection(_silo, "declared dead");
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => call);
        Assert.Contains("declared dead", error.Message);
    }

    [Fact]
    public async Task A_connection_naming_another_generation_of_the_endpoint_is_refused()
    {
        var oldGeneration = _silo with { Generation = _silo.Generation - 1 };
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            _connector.CallAsync(oldGeneration, Request("x"), BytesBody.Empty, TimeSpan.FromSeconds(5), "call"));
        Assert.Contains("generation", error.Message);
        Assert.False(error.CallMayHaveRun);
        Assert.Equal(0, _handler.Received);
    }

    [Fact]
    public async Task A_connection_from_another_cluster_is_refused()
    {
        await using var foreign = new SiloConnector(new ClusterOptions { ClusterId = "other" }, NullLogger.Instance);
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            foreign.CallAsync(_silo, Request("x"), BytesBody.Empty, TimeSpan.FromSeconds(5), "call"));
        Assert.Contains("cluster 'transport-test'", error.Message);
    }

    [Fact]
    public void Frames_round_trip_with_every_header_field()
    {
        var buffer = new FrameBuffer(16);
        var header = new MessageHeader
        {
            Kind = MessageKind.Request, Flags = MessageFlags.ReadOnly | MessageFlags.NoForward, ForwardCount = 2,
            CorrelationId = long.MaxValue - 3, ExpiresAtUnixMs = 1_700_000_000_123, InterfaceId = -5, MethodId = 99,
            Target = new GrainId("type/é", "key with spaces"),
        };
        FrameCodec.Write(buffer, header, new BytesBody(new byte[] { 1, 2, 3 }));
        FrameCodec.Write(buffer, new MessageHeader { Kind = MessageKind.Response, Result = ResultKind.Rejection, CorrelationId = 9 }, BytesBody.Empty);

        var sequence = new ReadOnlySequence<byte>(buffer.WrittenMemory);
        Assert.True(FrameCodec.TryRead(ref sequence, out var first));
        Assert.True(FrameCodec.TryRead(ref sequence, out var second));
        Assert.False(FrameCodec.TryRead(ref sequence, out _));

        Assert.Equal(header.Kind, first.Header.Kind);
        Assert.Equal(header.Flags, first.Header.Flags);
        Assert.Equal(header.ForwardCount, first.Header.ForwardCount);
        Assert.Equal(header.CorrelationId, first.Header.CorrelationId);
        Assert.Equal(header.ExpiresAtUnixMs, first.Header.ExpiresAtUnixMs);
        Assert.Equal(header.InterfaceId, first.Header.InterfaceId);
        Assert.Equal(header.MethodId, first.Header.MethodId);
        Assert.Equal(header.Target, first.Header.Target);
        Assert.Equal(new byte[] { 1, 2, 3 }, first.Body.ToArray());
        Assert.Equal(ResultKind.Rejection, second.Header.Result);
        Assert.Equal(9, second.Header.CorrelationId);
        Assert.True(second.Body.IsEmpty);
    }

    [Fact]
    public void A_partial_frame_waits_for_more_bytes_and_a_bogus_length_is_rejected()
    {
        var buffer = new FrameBuffer();
        FrameCodec.Write(buffer, new MessageHeader { Kind = MessageKind.Ping, CorrelationId = 1 }, BytesBody.Empty);
        var partial = new ReadOnlySequence<byte>(buffer.WrittenMemory[..^1]);
        Assert.False(FrameCodec.TryRead(ref partial, out _));

        var bogus = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0x7F, 0 });
        Assert.Throws<InvalidDataException>(() => FrameCodec.TryRead(ref bogus, out _));
    }
}
