using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Granary.Online;
using Granary.Serving;

namespace Granary.Gateway.Tests;

/// <summary>
/// Feast's own clients against the gateway's REST routes: each request is the body Feast 0.66's client code builds (file
/// and line cited), and each answer is read as that client reads it, in Python's standard library (python3), with the
/// Python 3.10 timestamp rule Feast still supports checked explicitly. Strict mode (header Granary-Strict) keeps
/// Granary's stricter answers; FeastRestTests and PushTests cover those.
/// </summary>
public sealed class FeastClientCompatibilityTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    // How Feast's RemoteOnlineStore reads a /get-online-features answer (infra/online_stores/remote.py 216-244:
    // response.json(), then values by python type, statuses by name; 684-692: event_timestamps through
    // datetime.fromisoformat after replacing 'Z'), plus the Python 3.10 rule: fromisoformat takes only 3 or 6
    // fraction digits there.
    private const string ReadOnlineAnswer = """
        import json, re, sys
        from datetime import datetime
        answer = json.loads(sys.stdin.read())
        names = answer["metadata"]["feature_names"]
        out = []
        for name, result in zip(names, answer["results"]):
            for ts in result["event_timestamps"]:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z", ts), ts
                datetime.fromisoformat(ts.replace("Z", "+00:00"))
            out.append(name + "=" + ",".join(type(v).__name__ + ":" + repr(v) for v in result["values"]) + "|" + ",".join(result["statuses"]))
        print(";".join(out))
        """;

    [Fact]
    public async Task Get_online_features_by_feature_list_reads_as_Feasts_remote_online_store_reads_it()
    {
        // remote.py 193-206: entities column-major, full_feature_names, include_feature_view_version_metadata, features.
        var (status, body) = await PostAsync("/get-online-features",
            """{"entities":{"driver_id":[1,2,3]},"full_feature_names":false,"include_feature_view_version_metadata":false,"features":["driver_stats:conv_rate","driver_stats:rating","driver_stats:trips"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("""{"results":[{"values":[1,2,3],"statuses":["PRESENT","PRESENT","PRESENT"],"event_timestamps":["1970-01-01T00:00:00Z",""", body);
        var read = await PythonAsync(ReadOnlineAnswer, body);
        Assert.Equal("driver_id=int:1,int:2,int:3|PRESENT,PRESENT,PRESENT;" +
                     "conv_rate=float:0.5,float:0.25,NoneType:None|PRESENT,PRESENT,NOT_FOUND;" +
                     "rating=float:4.5,float:3.5,NoneType:None|PRESENT,PRESENT,NOT_FOUND;" +
                     "trips=int:20,int:5,NoneType:None|PRESENT,PRESENT,NOT_FOUND", read);
    }

    [Fact]
    public async Task Get_online_features_by_feature_service_and_an_unread_entity_column_is_answered_as_Feast()
    {
        // remote.py 203-204: a FeatureService goes as "feature_service": name. 'vehicle' is read by no view: Feast ignores it.
        var (status, body) = await PostAsync("/get-online-features",
            """{"entities":{"driver_id":[1],"vehicle":[3]},"full_feature_names":false,"include_feature_view_version_metadata":false,"feature_service":"driver_service"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("driver_id=int:1|PRESENT;conv_rate=float:0.5|PRESENT;trips=int:20|PRESENT", await PythonAsync(ReadOnlineAnswer, body));

        // Strict mode keeps Granary's 400 naming the column.
        var (strict, text) = await PostAsync("/get-online-features", """{"entities":{"driver_id":[1],"vehicle":[3]},"feature_service":"driver_service"}""", strict: true);
        Assert.Equal(HttpStatusCode.BadRequest, strict);
        Assert.Contains("entities 'vehicle' is neither a join key nor a request data field", text);
    }

    [Fact]
    public void The_answer_is_Feasts_bytes_timestamps_as_epoch_seconds_whole_floats_with_a_fraction_and_millisecond_times()
    {
        // feature_server_utils.py 27-66 (shape, key order), 69-114 (unix_timestamp_val is the int, floats are floats),
        // 131-152 (no, 3, 6 or 9 fraction digits); FastAPI's JSONResponse writes it compact.
        var at = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var response = new OnlineFeaturesResponse(["driver_id", "signed_up", "trips_avg", "rating", "tags", "photo"],
        [
            new OnlineFeatureColumn([7L], [FeatureStatus.Present], [null]),
            new OnlineFeatureColumn([at], [FeatureStatus.Present], [at.AddMilliseconds(500)]),
            new OnlineFeatureColumn([30.0], [FeatureStatus.Present], [at.AddTicks(1_234_560)]),
            new OnlineFeatureColumn([0.5f], [FeatureStatus.Present], [at.AddTicks(1)]),
            new OnlineFeatureColumn([new[] { at, at.AddSeconds(1) }], [FeatureStatus.Present], [at]),
            new OnlineFeatureColumn([new byte[] { 1, 2 }], [FeatureStatus.NullValue], [at]),
        ]);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, GatewayEndpoints.JsonOptions)) OnlineFeaturesJson.Write(json, response);
        Assert.Equal(
            """{"results":[{"values":[7],"statuses":["PRESENT"],"event_timestamps":["1970-01-01T00:00:00Z"]},""" +
            """{"values":[1704067200],"statuses":["PRESENT"],"event_timestamps":["2024-01-01T00:00:00.500Z"]},""" +
            """{"values":[30.0],"statuses":["PRESENT"],"event_timestamps":["2024-01-01T00:00:00.123456Z"]},""" +
            """{"values":[0.5],"statuses":["PRESENT"],"event_timestamps":["2024-01-01T00:00:00.000000100Z"]},""" +
            """{"values":[[1704067200,1704067201]],"statuses":["PRESENT"],"event_timestamps":["2024-01-01T00:00:00Z"]},""" +
            """{"values":["AQI="],"statuses":["NULL_VALUE"],"event_timestamps":["2024-01-01T00:00:00Z"]}],""" +
            "\"metadata\":{\"feature_names\":[\"driver_id\",\"signed_up\",\"trips_avg\",\"rating\",\"tags\",\"photo\"]}}",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public async Task A_whole_number_float_is_read_by_python_as_a_float_and_a_half_second_event_time_parses_in_python_3_10()
    {
        // Feast's push body (feature_server.py 812-826: df column-major, "to"); the event time has a half second.
        var (status, _) = await PostAsync("/push", """{"push_source_name":"driver_push","df":{"driver_id":[21],"event_timestamp":["2024-02-01T00:00:00.5Z"],"speed":[30]},"to":"online"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var (_, body) = await PostAsync("/get-online-features", """{"entities":{"driver_id":[21]},"features":["pushed_stats:speed"]}""");
        Assert.Contains("\"values\":[30.0]", body);
        Assert.Contains("\"2024-02-01T00:00:00.500Z\"", body);
        Assert.Equal("driver_id=int:21|PRESENT;speed=float:30.0|PRESENT", await PythonAsync(ReadOnlineAnswer, body));
    }

    [Theory]
    // Feast's documented push example sends a 'created' column its view does not read; Feast ignores it (push with to=online
    // is write_to_online_store per view, feature_store.py 3396-3402).
    [InlineData("online")]
    // online_and_offline and offline: Feast wants the batch source's columns (feature_store.py 3863-3885); columns no
    // view reads are left out of Granary's write instead of refused.
    [InlineData("online_and_offline")]
    [InlineData("offline")]
    public async Task Push_in_every_mode_ignores_a_column_no_view_reads(string to)
    {
        var driver = to switch { "online" => 31, "online_and_offline" => 32, _ => 33 };
        var body = $$"""{"push_source_name":"driver_push","df":{"driver_id":[{{driver}}],"event_timestamp":["2024-02-01T00:00:00Z"],"created":["2024-02-01T00:00:01Z"],"speed":[2.5]},"to":"{{to}}","allow_registry_cache":true,"transform_on_write":true}""";
        var (status, text) = await PostAsync("/push", body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("", text);
        var (_, read) = await PostAsync("/get-online-features", $$"""{"entities":{"driver_id":[{{driver}}]},"features":["pushed_stats:speed"]}""");
        Assert.Equal(to == "offline" ? $"driver_id=int:{driver}|PRESENT;speed=NoneType:None|NOT_FOUND" : $"driver_id=int:{driver}|PRESENT;speed=float:2.5|PRESENT",
            await PythonAsync(ReadOnlineAnswer, read));

        // Strict mode refuses the unread column, naming it.
        var (strict, refusal) = await PostAsync("/push", body, strict: true);
        Assert.Equal(HttpStatusCode.BadRequest, strict);
        Assert.Contains("column 'created' is not in the schema of push source 'driver_push'", refusal);
    }

    [Fact]
    public async Task Materialize_through_a_remote_online_store_writes_with_the_body_Feast_sends()
    {
        // remote.py 265-291 (online_write_batch): join keys and features by name, event_timestamp as naive ISO text,
        // created (null when absent), allow_registry_cache false; answered 200 with null (feature_server.py 920-933).
        var (status, body) = await PostAsync("/write-to-online-store",
            """{"feature_view_name":"pushed_stats","df":{"driver_id":[41,42],"speed":[1.5,3.0],"event_timestamp":["2024-02-01T00:00:00","2024-02-01T00:00:00.250000"],"created":[null,null]},"allow_registry_cache":false}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("null", body);
        var (_, read) = await PostAsync("/get-online-features", """{"entities":{"driver_id":[41,42]},"features":["pushed_stats:speed"]}""");
        Assert.Equal("driver_id=int:41,int:42|PRESENT,PRESENT;speed=float:1.5,float:3.0|PRESENT,PRESENT", await PythonAsync(ReadOnlineAnswer, read));
        Assert.Contains("\"2024-02-01T00:00:00.250Z\"", read);
    }

    [Fact]
    public async Task Materialize_through_a_remote_online_store_writes_a_view_over_a_batch_source()
    {
        // The same body for a view over a file source (remote.py 265-291): Feast's server accepts it (feature_server.py
        // 920-933 calls store.write_to_online_store for any feature view).
        var (status, body) = await PostAsync("/write-to-online-store",
            """{"feature_view_name":"driver_stats","df":{"driver_id":[51],"conv_rate":[0.75],"trips":[9],"rating":[2.0],"event_timestamp":["2024-03-01T00:00:00"],"created":["2024-03-01T00:00:01"]},"allow_registry_cache":false}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("null", body);
        var (_, read) = await PostAsync("/get-online-features", """{"entities":{"driver_id":[51]},"features":["driver_stats:conv_rate","driver_stats:trips","driver_stats:rating"]}""");
        Assert.Equal("driver_id=int:51|PRESENT;conv_rate=float:0.75|PRESENT;trips=int:9|PRESENT;rating=float:2.0|PRESENT", await PythonAsync(ReadOnlineAnswer, read));

        // Strict mode keeps Granary's rule: online rows only through push sources.
        var (strict, refusal) = await PostAsync("/write-to-online-store", """{"feature_view_name":"driver_stats","df":{"driver_id":[52],"conv_rate":[0.5],"event_timestamp":["2024-03-01T00:00:00"]}}""", strict: true);
        Assert.Equal(HttpStatusCode.BadRequest, strict);
        Assert.Contains("which is not a push source", refusal);
    }

    // How Feast's REST client turns an error answer back into the exception (rest_error_handler.py 97-103:
    // response.json() to FeastError.from_error_detail, errors.py 54-69: json.loads, module/class/message), and the
    // server's bytes for it (errors.py 38-51 json.dumps; feature_server.py 1076-1079 JSONResponse, compact, non-ASCII kept).
    private const string ReadErrorAnswer = """
        import json, sys
        body = sys.stdin.read()
        detail = json.loads(body)
        assert isinstance(detail, str), type(detail)
        m = json.loads(detail)
        assert list(m) == ["module", "class", "message"], list(m)
        assert m["module"] == "feast.errors"
        again = json.dumps(json.dumps(m), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        assert again == body, (again, body)
        print(m["class"] + "|" + m["message"])
        """;

    [Theory]
    [InlineData("/get-online-features", """{"entities":{"driver_id":[1]},"features":["nope:conv_rate"]}""", 404, "FeatureViewNotFoundException", "feature view 'nope' is not in the registry")]
    [InlineData("/get-online-features", """{"entities":{"driver_id":[1]},"feature_service":"nope"}""", 404, "FeatureServiceNotFoundException", "feature service 'nope' is not in the registry")]
    [InlineData("/get-online-features", """{"entities":{"driver_id":[1]},"features":["driver_stats:speed"]}""", 404, "FeastObjectNotFoundException", "feature view 'driver_stats' has no feature 'speed'")]
    [InlineData("/get-online-features", """{"entities":{"driver_id":["é"]},"features":["driver_stats:trips"]}""", 400, "FeastError", "entities.driver_id[0] is the string \"é\"")]
    [InlineData("/push", """{"push_source_name":"nope","df":{"driver_id":[1]},"to":"online"}""", 422, "PushSourceNotFoundException", "push source 'nope' is not in the registry")]
    [InlineData("/write-to-online-store", """{"feature_view_name":"nope","df":{"driver_id":[1]}}""", 404, "FeatureViewNotFoundException", "'feature_view_name' 'nope' is not a feature view")]
    [InlineData("/materialize", """{"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-02T00:00:00Z","feature_views":["nope"]}""", 404, "FeatureViewNotFoundException", "feature_views[0] 'nope' is not a feature view")]
    public async Task Errors_are_Feasts_body_that_its_client_turns_into_the_matching_exception(string path, string body, int expected, string feastClass, string message)
    {
        var (status, text) = await PostAsync(path, body);
        Assert.Equal(expected, (int)status);
        var read = await PythonAsync(ReadErrorAnswer, text);
        Assert.StartsWith(feastClass + "|", read);
        Assert.Contains(message, read);
    }

    private async Task<(HttpStatusCode, string)> PostAsync(string path, string body, bool strict = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (strict) request.Headers.Add("Granary-Strict", "true");
        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Runs <paramref name="script"/> in python3 with <paramref name="input"/> on stdin; its stdout, trimmed. Fails on a non-zero exit.</summary>
    private static async Task<string> PythonAsync(string script, string input)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var start = new ProcessStartInfo("python3") { ArgumentList = { "-c", script }, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.StandardInputEncoding = new UTF8Encoding(false);
        start.StandardOutputEncoding = Encoding.UTF8;
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        using var python = Process.Start(start)!;
        var output = python.StandardOutput.ReadToEndAsync(deadline.Token);
        var errors = python.StandardError.ReadToEndAsync(deadline.Token);
        await python.StandardInput.WriteAsync(input);
        python.StandardInput.Close();
        try
        {
            await python.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            python.Kill(entireProcessTree: true);
            throw;
        }
        var text = (await output).Trim();
        Assert.True(python.ExitCode == 0, $"python3 failed reading: {input}\n{await errors}");
        return text;
    }
}
