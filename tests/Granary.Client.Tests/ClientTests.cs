using Grpc.Core;

namespace Granary.Client.Tests;

/// <summary>
/// The SDK against the real gateway: typed reads, push and materialization; each attempt's deadline; retries only for
/// idempotent calls (counted as gRPC calls leaving the client); the breaker opening on a stopped gateway and closing once
/// it is back; fallback defaults and cached reads, each flagged.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientTests(ClientServer server)
{
    private static readonly string[] Features = ["driver_stats:conv_rate", "driver_stats:trips"];

    private static IReadOnlyList<IReadOnlyDictionary<string, object?>> Drivers(params long[] ids) =>
        ids.Select(id => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["driver_id"] = id }).ToArray();

    private GranaryClient Client(Action<GranaryClientOptions>? configure = null, Uri? address = null, CountingInterceptor? handler = null, TimeProvider? clock = null)
    {
        // A generous deadline unless a test sets one: the machine is shared, and a slow answer must not look like an outage.
        var options = new GranaryClientOptions { Address = address ?? server.Address, RetryBackoff = TimeSpan.FromMilliseconds(10), DefaultDeadline = TimeSpan.FromSeconds(30) };
        if (clock is not null) options.Clock = clock;
        if (handler is not null) options.Interceptors.Add(handler);
        configure?.Invoke(options);
        return new GranaryClient(options);
    }

    private static Uri Nowhere() => new($"http://127.0.0.1:{ClientServer.FreePort()}");

    [Fact]
    public async Task A_read_answers_typed_values_statuses_and_event_times_per_row()
    {
        using var client = Client();
        var result = await client.GetOnlineFeaturesAsync(Features, Drivers(1, 3));
        Assert.Equal(["driver_id", "conv_rate", "trips"], result.FeatureNames);
        Assert.False(result.FromCache);
        Assert.False(result.FromFallback);
        Assert.Equal(new FeatureValue(0.5, FeatureStatus.Present, new DateTimeOffset(2024, 1, 1, 10, 0, 0, TimeSpan.Zero)), result.Get(0, "conv_rate"));
        Assert.Equal(20L, result.Get(0, "trips").Value);
        Assert.Equal(3L, result.Get(1, "driver_id").Value);
        Assert.Equal(new FeatureValue(null, FeatureStatus.NotFound, null), result.Get(1, "trips"));
    }

    [Fact]
    public async Task A_feature_service_read_and_full_feature_names_work()
    {
        using var client = Client();
        var result = await client.GetOnlineFeaturesAsync("driver_service", Drivers(2), fullFeatureNames: true);
        Assert.Equal(["driver_id", "driver_stats__trips"], result.FeatureNames);
        Assert.Equal(5L, result.Get(0, "driver_stats__trips").Value);
    }

    [Fact]
    public async Task A_bad_request_is_INVALID_ARGUMENT_or_NOT_FOUND_with_the_servers_message_and_is_not_retried()
    {
        var handler = new CountingInterceptor();
        using var client = Client(handler: handler);
        var unknown = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(["nope:x"], Drivers(1)));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("nope", unknown.Message);
        var wrongType = new Dictionary<string, object?> { ["driver_id"] = "one" };
        var bad = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, [wrongType]));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("driver_id", bad.Message);
        Assert.Equal(2, handler.Count);
        Assert.Equal(BreakerState.Closed, client.BreakerState);
    }

    [Fact]
    public async Task Push_is_served_and_materialize_and_its_status_report_the_run()
    {
        using var client = Client();
        var row = new Dictionary<string, object?> { ["driver_id"] = 7L, ["event_timestamp"] = ClientServer.Day.AddHours(1), ["speed"] = 42.5 };
        var pushed = await client.PushAsync("driver_push", [row]);
        Assert.Equal(1, pushed.RowsAccepted);
        Assert.Equal(42.5, (await client.GetOnlineFeaturesAsync(["pushed_stats:speed"], Drivers(7))).Get(0, "speed").Value);

        var started = await client.MaterializeAsync(ClientServer.Day, ClientServer.Day.AddDays(2), ["driver_stats"]);
        Assert.Equal("driver_stats", Assert.Single(started).FeatureView);
        MaterializationStatus status;
        do status = Assert.Single(await client.GetMaterializationStatusAsync(["driver_stats"]));
        while (!status.IsFinished && await Delay());
        Assert.Equal(MaterializationState.Succeeded, status.State);
        Assert.Equal(ClientServer.Day.AddDays(2), status.End);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    [Fact]
    public async Task The_deadline_is_honoured_per_call_and_by_default()
    {
        // 10,000 entity rows cannot be answered within a millisecond; the same read with a generous deadline is.
        var many = Drivers(Enumerable.Range(1, 10_000).Select(i => (long)i).ToArray());
        using var client = Client(o => { o.DefaultDeadline = TimeSpan.FromMilliseconds(1); o.RetryCount = 0; });
        var late = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, many));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        Assert.Contains("deadline", late.Hint);
        var push = new Dictionary<string, object?> { ["driver_id"] = 8L, ["event_timestamp"] = ClientServer.Day, ["speed"] = 1.0 };
        Assert.Equal(StatusCode.DeadlineExceeded,
            (await Assert.ThrowsAsync<GranaryClientException>(() => client.PushAsync("driver_push", Enumerable.Repeat(push, 10_000).ToArray()))).StatusCode);

        var onTime = await client.GetOnlineFeaturesAsync(Features, many, deadline: TimeSpan.FromSeconds(30));
        Assert.Equal(10_000, onTime.Rows.Count);
        Assert.Equal(5L, onTime.Get(1, "trips").Value);
    }

    [Fact]
    public async Task Reads_and_status_are_retried_on_UNAVAILABLE_but_push_and_materialize_are_sent_once()
    {
        var handler = new CountingInterceptor();
        using var client = Client(o => { o.RetryCount = 3; o.BreakerFailureThreshold = 0; }, Nowhere(), handler);

        var read = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, Drivers(1)));
        Assert.Equal(StatusCode.Unavailable, read.StatusCode);
        Assert.Equal(4, handler.Count);

        await Assert.ThrowsAsync<GranaryClientException>(() => client.GetMaterializationStatusAsync());
        Assert.Equal(8, handler.Count);

        var row = new Dictionary<string, object?> { ["driver_id"] = 1L, ["event_timestamp"] = ClientServer.Day, ["speed"] = 1.0 };
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<GranaryClientException>(() => client.PushAsync("driver_push", [row]))).StatusCode);
        Assert.Equal(9, handler.Count);

        await Assert.ThrowsAsync<GranaryClientException>(() => client.MaterializeAsync(ClientServer.Day, ClientServer.Day.AddDays(1)));
        Assert.Equal(10, handler.Count);
    }

    [Fact]
    public async Task Retries_also_cover_DEADLINE_EXCEEDED_reads_but_not_pushes()
    {
        var handler = new CountingInterceptor();
        using var client = Client(o => { o.RetryCount = 2; o.DefaultDeadline = TimeSpan.FromMilliseconds(1); o.BreakerFailureThreshold = 0; }, handler: handler);
        var many = Drivers(Enumerable.Range(1, 10_000).Select(i => (long)i).ToArray());
        await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, many));
        Assert.Equal(3, handler.Count);
        var push = new Dictionary<string, object?> { ["driver_id"] = 9L, ["event_timestamp"] = ClientServer.Day, ["speed"] = 1.0 };
        await Assert.ThrowsAsync<GranaryClientException>(() => client.PushAsync("driver_push", Enumerable.Repeat(push, 10_000).ToArray()));
        Assert.Equal(4, handler.Count);
    }

    [Fact]
    public async Task The_breaker_opens_after_consecutive_failures_and_closes_when_the_gateway_is_back()
    {
        var clock = new ManualClock();
        var handler = new CountingInterceptor();
        using var client = Client(o => { o.RetryCount = 0; o.BreakerFailureThreshold = 3; o.BreakerBreakDuration = TimeSpan.FromSeconds(30); }, handler: handler, clock: clock);
        Assert.Equal(20L, (await client.GetOnlineFeaturesAsync(Features, Drivers(1))).Get(0, "trips").Value);

        await server.StopGatewayAsync();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(BreakerState.Closed, client.BreakerState);
                var down = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, Drivers(1)));
                Assert.False(down.CircuitOpen);
            }
            Assert.Equal(BreakerState.Open, client.BreakerState);
            Assert.Equal(4, handler.Count);

            // Open: the call fails at once, nothing is sent.
            var open = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, Drivers(1)));
            Assert.True(open.CircuitOpen);
            Assert.Equal(StatusCode.Unavailable, open.StatusCode);
            Assert.Equal(4, handler.Count);

            // Half-open with the gateway still down: the one trial call fails and the breaker opens again.
            clock.Advance(TimeSpan.FromSeconds(31));
            Assert.Equal(BreakerState.HalfOpen, client.BreakerState);
            Assert.False((await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, Drivers(1)))).CircuitOpen);
            Assert.Equal(BreakerState.Open, client.BreakerState);
            Assert.Equal(5, handler.Count);
        }
        finally
        {
            await server.StartGatewayAsync();
        }

        Assert.True((await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(Features, Drivers(1)))).CircuitOpen);
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(20L, (await client.GetOnlineFeaturesAsync(Features, Drivers(1))).Get(0, "trips").Value);
        Assert.Equal(BreakerState.Closed, client.BreakerState);
        Assert.Equal(6, handler.Count);
    }

    [Fact]
    public async Task Fallback_defaults_are_served_flagged_when_the_gateway_is_unreachable_or_the_breaker_is_open()
    {
        var handler = new CountingInterceptor();
        using var client = Client(o =>
        {
            o.RetryCount = 1;
            o.BreakerFailureThreshold = 1;
            o.FallbackDefaults["driver_stats:conv_rate"] = 0.0;
            o.FallbackDefaults["driver_stats:trips"] = 0L;
        }, Nowhere(), handler);

        var result = await client.GetOnlineFeaturesAsync(Features, Drivers(1, 2));
        Assert.True(result.FromFallback);
        Assert.False(result.FromCache);
        Assert.Equal(["driver_id", "conv_rate", "trips"], result.FeatureNames);
        Assert.Equal(new FeatureValue(2L, FeatureStatus.Present, null), result.Get(1, "driver_id"));
        Assert.Equal(new FeatureValue(0L, FeatureStatus.Fallback, null), result.Get(1, "trips"));
        Assert.Equal(2, handler.Count);

        // The breaker is open now: the fallback is served without a call.
        Assert.Equal(BreakerState.Open, client.BreakerState);
        var again = await client.GetOnlineFeaturesAsync(["driver_stats:trips"], Drivers(1), fullFeatureNames: true);
        Assert.True(again.FromFallback);
        Assert.Equal(["driver_id", "driver_stats__trips"], again.FeatureNames);
        Assert.Equal(2, handler.Count);

        // A feature with no default: the error, not a partial fallback.
        var missing = await Assert.ThrowsAsync<GranaryClientException>(() => client.GetOnlineFeaturesAsync(["driver_stats:conv_rate", "pushed_stats:speed"], Drivers(1)));
        Assert.True(missing.CircuitOpen);
    }

    [Fact]
    public async Task A_cached_read_is_flagged_and_expires_after_its_ttl_and_the_cache_is_bounded()
    {
        var clock = new ManualClock();
        var handler = new CountingInterceptor();
        using var client = Client(o => { o.CacheSize = 2; o.CacheTtl = TimeSpan.FromSeconds(5); }, handler: handler, clock: clock);

        Assert.False((await client.GetOnlineFeaturesAsync(Features, Drivers(1))).FromCache);
        var hit = await client.GetOnlineFeaturesAsync(Features, Drivers(1));
        Assert.True(hit.FromCache);
        Assert.Equal(0.5, hit.Get(0, "conv_rate").Value);
        Assert.Equal(1, handler.Count);

        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.False((await client.GetOnlineFeaturesAsync(Features, Drivers(1))).FromCache);
        Assert.Equal(2, handler.Count);

        // Size 2: a third distinct read evicts the least recently used (driver 1).
        await client.GetOnlineFeaturesAsync(Features, Drivers(2));
        await client.GetOnlineFeaturesAsync(Features, Drivers(3));
        Assert.Equal(4, handler.Count);
        Assert.False((await client.GetOnlineFeaturesAsync(Features, Drivers(1))).FromCache);
        Assert.True((await client.GetOnlineFeaturesAsync(Features, Drivers(3))).FromCache);
        Assert.Equal(5, handler.Count);
    }

    [Fact]
    public void Bad_options_and_arguments_are_refused_naming_the_value()
    {
        Assert.Contains("Address", Assert.Throws<ArgumentException>(() => new GranaryClient(new GranaryClientOptions())).Message);
        Assert.Contains("'ftp://x/'", Assert.Throws<ArgumentException>(() => new GranaryClient(new GranaryClientOptions { Address = new Uri("ftp://x") })).Message);
        Assert.Contains("RetryCount is -1", Assert.Throws<ArgumentException>(() => Client(o => o.RetryCount = -1)).Message);
        using var client = Client();
        Assert.Contains("'conv_rate'", Assert.Throws<ArgumentException>(() => { _ = client.GetOnlineFeaturesAsync(["conv_rate"], Drivers(1)); }).Message);
        var odd = new Dictionary<string, object?> { ["driver_id"] = new object() };
        Assert.Contains("driver_id[0]", Assert.Throws<ArgumentException>(() => { _ = client.GetOnlineFeaturesAsync(Features, [odd]); }).Message);
    }
}
