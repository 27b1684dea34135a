using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Feast.Serving;
using Feast.Types;
using Google.Protobuf.WellKnownTypes;
using Granary.Gateway.V1;
using Grpc.Core;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests.Fuzz;

/// <summary>One case of each class the fuzz test found, with the answer pinned: the status, and the field and value named.</summary>
public sealed class BadInputTests(FuzzServer server) : IClassFixture<FuzzServer>
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(15);

    private async Task<(int Status, string Message)> PostAsync(string route, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var response = await server.Http.PostAsync(route, content, cancel.Token);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel.Token));
        // Feast's routes answer Feast's error body (a JSON string holding module, class and message); Granary's own, an object.
        if (json.RootElement.ValueKind != JsonValueKind.String) return ((int)response.StatusCode, json.RootElement.GetProperty("message").GetString()!);
        using var detail = JsonDocument.Parse(json.RootElement.GetString()!);
        return ((int)response.StatusCode, detail.RootElement.GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task A_lone_surrogate_or_invalid_utf8_in_a_json_string_is_400_naming_where()
    {
        var (status, message) = await PostAsync("/get-online-features", Encoding.UTF8.GetBytes("""{"features":["driver_stats:trips"],"entities":{"city":["\udfff"]}}"""));
        Assert.Equal(400, status);
        Assert.StartsWith("entities.city[0] is a JSON string that is not valid UTF-8 text", message);

        byte[] invalid = [.. """{"push_source_name":"driver_push","df":{"driver_id":[1],"speed":["""u8, (byte)'"', 0xFF, (byte)'"', .. "]}}"u8];
        (status, message) = await PostAsync("/push", invalid);
        Assert.Equal(400, status);
        Assert.StartsWith("df.speed[0] is a JSON string that is not valid UTF-8 text", message);
    }

    [Fact]
    public async Task Out_of_range_epoch_seconds_and_floats_are_400_naming_the_field_and_value()
    {
        var (status, message) = await PostAsync("/get-online-features",
            """{"features":["driver_stats:trips"],"entities":{"driver_id":[1]},"request_context":{"ride_at":[99999999999999]}}"""u8.ToArray());
        Assert.Equal(400, status);
        Assert.StartsWith("request_context.ride_at[0] 99999999999999 is not a time: epoch seconds run from -62135596800", message);

        (status, message) = await PostAsync("/push", """{"push_source_name":"driver_push","df":{"driver_id":[1],"event_timestamp":["2024-01-02T00:00:00Z"],"speed":[1e400]}}"""u8.ToArray());
        Assert.Equal(400, status);
        Assert.Contains("speed", message);
        Assert.Contains("1e400", message);
    }

    [Fact]
    public async Task A_materialization_window_ending_in_the_future_is_400()
    {
        var (status, message) = await PostAsync("/materialize-incremental", """{"feature_views":["city_stats"],"end_ts":"9999-12-31T00:00:00Z"}"""u8.ToArray());
        Assert.Equal(400, status);
        Assert.StartsWith("end_ts 9999-12-31T00:00:00.0000000+00:00 is in the future", message);
    }

    [Fact]
    public async Task A_chunk_size_that_overflows_is_400()
    {
        var url = new Uri(server.Gateway.RestUrl);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port, cancel.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /get-online-features HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n" +
                                                       "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}\r\n0\r\n\r\n"), cancel.Token);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cancel.Token)) > 0) answer.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        catch (IOException) when (!cancel.IsCancellationRequested)
        {
            // reset after the answer
        }
        Assert.StartsWith("HTTP/1.1 400 ", answer.ToString());
    }

    [Fact]
    public async Task Dashboard_paths_with_a_malformed_or_unknown_silo_are_4xx()
    {
        using var malformed = await server.Http.GetAsync("/dashboard/SiloCounters/1");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("'1' in '/dashboard/SiloCounters/1' is not a silo address", await malformed.Content.ReadAsStringAsync());
        using var history = await server.Http.GetAsync("/dashboard/HistoricalStats/xyz");
        Assert.Equal(HttpStatusCode.BadRequest, history.StatusCode);
        using var unknown = await server.Http.GetAsync("/dashboard/SiloStats/127.0.0.1:1@1");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_malformed_protobuf_request_is_INVALID_ARGUMENT_on_every_method_kind()
    {
        var invoker = server.Channel.CreateCallInvoker();
        var raw = Marshallers.Create<byte[]>(b => b, b => b);
        byte[] garbage = [0x0A, 0x05, 0x01];
        var unary = new Method<byte[], byte[]>(MethodType.Unary, "feast.serving.ServingService", "GetOnlineFeatures", raw, raw);
        var error = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(unary, null, new CallOptions(deadline: Deadline), garbage).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("/feast.serving.ServingService/GetOnlineFeatures: the request is not a valid GetOnlineFeaturesRequest message", error.Status.Detail);

        var streaming = new Method<byte[], byte[]>(MethodType.ServerStreaming, "granary.gateway.v1.Granary", "GetHistoricalFeatures", raw, raw);
        using var call = invoker.AsyncServerStreamingCall(streaming, null, new CallOptions(deadline: Deadline), garbage);
        error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Out_of_range_grpc_times_are_INVALID_ARGUMENT_naming_the_field()
    {
        var granary = new V1.Granary.GranaryClient(server.Channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => granary.MaterializeAsync(new MaterializeRequest
        {
            FeatureViews = { "city_stats" }, Start = new Timestamp { Seconds = 999_999_999_999_999 }, End = new Timestamp { Seconds = 1_704_240_000 },
        }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("'start' seconds 999999999999999 is not a time", error.Status.Detail);

        error = await Assert.ThrowsAsync<RpcException>(() => granary.MaterializeAsync(new MaterializeRequest
        {
            FeatureViews = { "city_stats" }, Start = new Timestamp { Seconds = 1_704_067_200, Nanos = -1 }, End = new Timestamp { Seconds = 1_704_240_000 },
        }, deadline: Deadline).ResponseAsync);
        Assert.StartsWith("'start' has nanos -1", error.Status.Detail);

        var push = new V1.PushRequest { PushSourceName = "driver_push" };
        push.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        push.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = long.MaxValue } } };
        error = await Assert.ThrowsAsync<RpcException>(() => granary.PushAsync(push, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("columns.event_timestamp[0] 9223372036854775807 is not a time", error.Status.Detail);

        var read = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:trips" } } };
        read.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        read.RequestContext["ride_at"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = long.MinValue } } };
        error = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(read, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("request_context.ride_at[0] -9223372036854775808 is not a time", error.Status.Detail);
    }
}
