using System.Net;
using System.Text;
using System.Text.Json;

namespace Granary.Gateway.Tests;

/// <summary>
/// Feast's REST API (Python feature server shapes) against the real gateway: the response field by field as Feast
/// documents it (column-major, join keys first with PRESENT and epoch timestamps, statuses by name, RFC 3339 'Z'),
/// and every kind of bad request answered with the right status and a JSON body naming the field and value, never 500.
/// </summary>
public sealed class FeastRestTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    [Fact]
    public async Task Get_online_features_answers_Feasts_column_major_shape_with_statuses_and_event_timestamps()
    {
        var (status, json) = await PostAsync("/get-online-features", """{"features":["driver_stats:conv_rate","driver_stats:trips"],"entities":{"driver_id":[1,2,3]}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var root = json.RootElement;
        Assert.Equal(["results", "metadata"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["driver_id", "conv_rate", "trips"], Strings(root.GetProperty("metadata").GetProperty("feature_names")));
        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(3, results.Count);
        foreach (var r in results) Assert.Equal(["values", "statuses", "event_timestamps"], r.EnumerateObject().Select(p => p.Name));

        // Join key column: the values as given, PRESENT, epoch timestamps.
        Assert.Equal([1L, 2L, 3L], results[0].GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal(["PRESENT", "PRESENT", "PRESENT"], Strings(results[0].GetProperty("statuses")));
        Assert.Equal(["1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"], Strings(results[0].GetProperty("event_timestamps")));

        // Driver 1's newer row wins; driver 3 has none.
        var rates = results[1].GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(0.5, rates[0].GetDouble());
        Assert.Equal(0.25, rates[1].GetDouble());
        Assert.Equal(JsonValueKind.Null, rates[2].ValueKind);
        Assert.Equal(["PRESENT", "PRESENT", "NOT_FOUND"], Strings(results[1].GetProperty("statuses")));
        Assert.Equal(["2024-01-02T10:00:00Z", "2024-01-01T12:00:00Z", "1970-01-01T00:00:00Z"], Strings(results[1].GetProperty("event_timestamps")));
        Assert.Equal(JsonValueKind.Number, results[2].GetProperty("values")[0].ValueKind);
        Assert.Equal(20, results[2].GetProperty("values")[0].GetInt64());
    }

    [Fact]
    public async Task Full_feature_names_prefix_features_with_their_view_but_not_join_keys()
    {
        var (status, json) = await PostAsync("/get-online-features", """{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[2]},"full_feature_names":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["driver_id", "driver_stats__conv_rate"], Strings(json.RootElement.GetProperty("metadata").GetProperty("feature_names")));
    }

    [Fact]
    public async Task A_feature_service_reads_its_projection()
    {
        var (status, json) = await PostAsync("/get-online-features", """{"feature_service":"driver_service","entities":{"driver_id":[1]}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["driver_id", "conv_rate", "trips"], Strings(json.RootElement.GetProperty("metadata").GetProperty("feature_names")));
        Assert.Equal(20, json.RootElement.GetProperty("results")[2].GetProperty("values")[0].GetInt64());
    }

    [Fact]
    public async Task A_string_join_key_reads_by_its_declared_type()
    {
        var (status, json) = await PostAsync("/get-online-features", """{"features":["city_stats:population"],"entities":{"city":["Paris","Oslo"]}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var results = json.RootElement.GetProperty("results");
        Assert.Equal(2100000, results[1].GetProperty("values")[0].GetInt64());
        Assert.Equal(["PRESENT", "NOT_FOUND"], Strings(results[1].GetProperty("statuses")));
    }

    [Theory]
    [InlineData("""{"features":["city_stats:population"],"entities":{"city":["Paris",75]}}""", "entities.city[1] is the number 75, but 'city' is declared String")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[1,"2"]}}""", "entities.driver_id[1] is the string \"2\", but 'driver_id' is declared Int64")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[1.5]}}""", "entities.driver_id[0] is the number 1.5, but 'driver_id' is declared Int64")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":7}}""", "entities.driver_id is the number 7, not a list")]
    [InlineData("""{"features":["driver_stats:conv_rate"]}""", "the request has no 'entities'")]
    [InlineData("""{"features":"driver_stats:conv_rate","entities":{"driver_id":[1]}}""", "'features' is the string \"driver_stats:conv_rate\", not a list of strings")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[1]},"full_feature_names":"yes"}""", "'full_feature_names' is the string \"yes\", not true or false")]
    [InlineData("""{"entities":{"driver_id":[1]}}""", "the request gives neither 'features' nor 'feature_service'")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"feature_service":"driver_service","entities":{"driver_id":[1]}}""", "the request gives both 'features' and 'feature_service'")]
    [InlineData("""{"features":["conv_rate"],"entities":{"driver_id":[1]}}""", "features[0] 'conv_rate' is not a feature reference")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[1],"vehicle":[3]}}""", "entities 'vehicle' is neither a join key nor a request data field")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[1, 2],"city":["Paris"]}}""", "has 1 values but 'driver_id' has 2")]
    [InlineData("""{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[null]}}""", "entity row 0: join key 'driver_id' is null")]
    [InlineData("""[1,2]""", "the request body is the list [1,2], not a JSON object")]
    [InlineData("""{"features":["driver_stats:conv_rate"], "entities": {""", "the request body is not valid JSON")]
    [InlineData("""not json""", "the request body is not valid JSON")]
    [InlineData("", "the request body is empty or not JSON")]
    public async Task Bad_requests_are_400_with_a_message_naming_the_field_and_value(string body, string message)
    {
        var (status, json) = await PostAsync("/get-online-features", body, strict: true);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertError(json, 400, message);
    }

    [Theory]
    [InlineData("""{"features":["nope:conv_rate"],"entities":{"driver_id":[1]}}""", "feature view 'nope' is not in the registry", "known: driver_stats, late_stats, city_stats, offline_only, big_stats, pushed_stats")]
    [InlineData("""{"features":["driver_stats:speed"],"entities":{"driver_id":[1]}}""", "feature view 'driver_stats' has no feature 'speed'", "known: conv_rate, trips, rating")]
    [InlineData("""{"feature_service":"nope","entities":{"driver_id":[1]}}""", "feature service 'nope' is not in the registry", "known: driver_service")]
    public async Task Unknown_objects_are_404_listing_what_is_known(string body, string message, string known)
    {
        var (status, json) = await PostAsync("/get-online-features", body, strict: true);
        Assert.Equal(HttpStatusCode.NotFound, status);
        AssertError(json, 404, message);
        Assert.Contains(known, json.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_with_a_json_error()
    {
        var body = """{"features":["driver_stats:conv_rate"],"entities":{"driver_id":[""" + string.Join(",", Enumerable.Range(0, 60_000)) + "]}}";
        Assert.True(Encoding.UTF8.GetByteCount(body) > 256 * 1024);
        var (status, json) = await PostAsync("/get-online-features", body, strict: true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        AssertError(json, 413, "");
        Assert.Equal("RequestTooLarge", json.RootElement.GetProperty("class").GetString());
    }

    [Fact]
    public async Task Health_is_200_while_the_cluster_and_the_online_store_answer()
    {
        var response = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
        Assert.Contains("online store", json.RootElement.GetProperty("checks").GetProperty("granary").GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Materialize_runs_the_window_and_answers_null_then_the_rows_are_served()
    {
        var (status, body) = await PostRawAsync("/materialize", """{"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-03T00:00:00","feature_views":["late_stats"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("null", body);
        var (_, json) = await PostAsync("/get-online-features", """{"features":["late_stats:trips"],"entities":{"driver_id":[1]}}""");
        Assert.Equal(20, json.RootElement.GetProperty("results")[1].GetProperty("values")[0].GetInt64());

        (status, body) = await PostRawAsync("/materialize-incremental", """{"end_ts":"2024-01-04T00:00:00Z","feature_views":["late_stats"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("null", body);
    }

    [Fact]
    public async Task Materializing_another_window_of_a_running_view_is_409()
    {
        var (status, body) = await PostRawAsync("/materialize?async=true", """{"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-02T00:00:00Z","feature_views":["big_stats"]}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        using (var accepted = JsonDocument.Parse(body))
        {
            Assert.Equal("accepted", accepted.RootElement.GetProperty("status").GetString());
            Assert.Equal(["big_stats"], Strings(accepted.RootElement.GetProperty("feature_views")));
        }
        var (conflict, json) = await PostAsync("/materialize", """{"start_ts":"2023-01-01T00:00:00Z","end_ts":"2024-01-02T00:00:00Z","feature_views":["big_stats"]}""", strict: true);
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        AssertError(json, 409, "feature view 'big_stats' is already materializing [2024-01-01T00:00:00.0000000+00:00, 2024-01-02T00:00:00.0000000+00:00]");
    }

    [Theory]
    [InlineData("/materialize", """{"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-02T00:00:00Z","feature_views":["nope"]}""", 404, "feature_views[0] 'nope' is not a feature view")]
    [InlineData("/materialize", """{"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-02T00:00:00Z","feature_views":["offline_only"]}""", 400, "feature_views[0] 'offline_only' has online: false")]
    [InlineData("/materialize", """{"start_ts":"2024-01-03T00:00:00Z","end_ts":"2024-01-02T00:00:00Z","feature_views":["late_stats"]}""", 400, "end_ts 2024-01-02T00:00:00.0000000+00:00 is before start_ts")]
    [InlineData("/materialize", """{"end_ts":"2024-01-02T00:00:00Z"}""", 400, "the request has no 'start_ts'")]
    [InlineData("/materialize", """{"start_ts":"yesterday","end_ts":"2024-01-02T00:00:00Z"}""", 400, "'start_ts' 'yesterday' is not an ISO 8601 timestamp")]
    [InlineData("/materialize", """{"start_ts":1704067200,"end_ts":"2024-01-02T00:00:00Z"}""", 400, "'start_ts' is the number 1704067200, not a non-empty string")]
    [InlineData("/materialize-incremental", """{"feature_views":["late_stats"]}""", 400, "the request has no 'end_ts'")]
    [InlineData("/materialize-incremental", """{"end_ts":"2024-01-02T00:00:00Z","feature_views":[3]}""", 400, "feature_views[0] is the number 3, not a string")]
    public async Task Bad_materialize_requests_name_the_field(string path, string body, int expected, string message)
    {
        var (status, json) = await PostAsync(path, body, strict: true);
        Assert.Equal(expected, (int)status);
        AssertError(json, expected, message);
    }

    private static void AssertError(JsonDocument json, int status, string message)
    {
        var root = json.RootElement;
        Assert.Equal("granary", root.GetProperty("module").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("class").GetString()));
        Assert.Contains(message, root.GetProperty("message").GetString());
        Assert.Equal(status, root.GetProperty("status").GetInt32());
    }

    // strict: Granary's own error object (FeastCompatibility.StrictHeader); Feast's error body is FeastClientCompatibilityTests'.
    private async Task<(HttpStatusCode, JsonDocument)> PostAsync(string path, string body, bool strict = false)
    {
        var (status, text) = await PostRawAsync(path, body, strict);
        return (status, JsonDocument.Parse(text));
    }

    private async Task<(HttpStatusCode, string)> PostRawAsync(string path, string body, bool strict = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (strict) request.Headers.Add("Granary-Strict", "true");
        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();
}
