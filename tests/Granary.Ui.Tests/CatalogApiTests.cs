using System.Net;
using System.Text.Json;

namespace Granary.Ui.Tests;

/// <summary>
/// The catalog's JSON API against the real gateway: search by name, tag, owner and kind; a view's detail (schema, TTL,
/// SLA, source, services and models, freshness, materializations, history with diffs); and errors in the gateway's shape
/// (404 unknown view or path, 400 bad kind or repeated parameter), never 500.
/// </summary>
[Collection(CatalogServerCollection.Name)]
public sealed class CatalogApiTests(CatalogServer server)
{
    [Fact]
    public async Task Search_by_name_finds_views_features_services_and_entities_case_insensitively()
    {
        var results = await SearchAsync("?q=DRIVER");
        Assert.Contains(results, r => r.Kind == "feature_view" && r.Name == "driver_stats");
        Assert.Contains(results, r => r.Kind == "feature_view" && r.Name == "driver_daily");
        Assert.Contains(results, r => r.Kind == "entity" && r.Name == "driver");
        Assert.DoesNotContain(results, r => r.Name == "city_stats");

        var features = await SearchAsync("?q=conv");
        var feature = Assert.Single(features);
        Assert.Equal(("feature", "conv_rate"), (feature.Kind, feature.Name));
        Assert.Equal("driver_stats", feature.Json.GetProperty("feature_view").GetString());
        Assert.Equal("Float64", feature.Json.GetProperty("type").GetString());

        var services = await SearchAsync("?q=ranking&kind=feature_service");
        var service = Assert.Single(services);
        Assert.Equal("ranking_v2", service.Name);
        Assert.Equal("driver_ranker", service.Json.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Search_by_tag_matches_a_key_value_pair_or_a_bare_key_or_value()
    {
        var pair = await SearchAsync("?tag=team=risk&kind=feature_view");
        Assert.Equal(["driver_daily"], pair.Select(r => r.Name));
        var colon = await SearchAsync("?tag=team:risk&kind=feature_view");
        Assert.Equal(["driver_daily"], colon.Select(r => r.Name));
        var key = await SearchAsync("?tag=tier&kind=feature_view");
        Assert.Equal(["driver_stats"], key.Select(r => r.Name));
        var value = await SearchAsync("?tag=ranking&kind=feature_view");
        Assert.Equal(["driver_stats"], value.Select(r => r.Name));
        // A feature is found by its view's tags.
        var features = await SearchAsync("?tag=team=risk&kind=feature");
        Assert.Equal(["trips"], features.Select(r => r.Name));
    }

    [Fact]
    public async Task Search_by_owner_uses_a_views_owner_and_other_objects_owner_tag()
    {
        var risk = await SearchAsync("?owner=risk@&kind=feature_view");
        Assert.Equal(["driver_daily", "late_stats"], risk.Select(r => r.Name).Order());
        var fleet = await SearchAsync("?owner=fleet");
        var entity = Assert.Single(fleet);
        Assert.Equal(("entity", "driver"), (entity.Kind, entity.Name));
        Assert.Equal(["driver_stats", "driver_daily", "late_stats"], entity.Json.GetProperty("feature_views").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Search_results_carry_the_views_freshness()
    {
        var results = await SearchAsync("?kind=feature_view");
        var byName = results.ToDictionary(r => r.Name, r => r.Json.GetProperty("freshness").GetProperty("status").GetString());
        Assert.Equal("fresh", byName["driver_stats"]);
        Assert.Equal("stale", byName["driver_daily"]);
        Assert.Equal("never_materialized", byName["city_stats"]);
    }

    [Fact]
    public async Task A_views_detail_has_schema_ttl_sla_owner_tags_source_services_and_models()
    {
        var (status, json) = await GetAsync("/api/catalog/feature-views/driver_stats");
        Assert.Equal(HttpStatusCode.OK, status);
        var v = json.RootElement;
        Assert.Equal("driver_stats", v.GetProperty("name").GetString());
        Assert.Equal(server.Project, v.GetProperty("project").GetString());
        Assert.Equal(2, v.GetProperty("registry_version").GetInt64());
        Assert.Equal("ranking-team@example.com", v.GetProperty("owner").GetString());
        Assert.Equal("gold", v.GetProperty("tags").GetProperty("tier").GetString());
        Assert.Equal("7d", v.GetProperty("ttl").GetString());
        Assert.Equal("1h", v.GetProperty("freshness_sla").GetString());
        Assert.Equal(["conv_rate", "trips", "acc_rate"], v.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal("Share of offers accepted", v.GetProperty("features")[0].GetProperty("description").GetString());
        var entity = Assert.Single(v.GetProperty("entities").EnumerateArray());
        Assert.Equal(("driver", "driver_id", "Int64"), (entity.GetProperty("name").GetString(), entity.GetProperty("join_key").GetString(), entity.GetProperty("value_type").GetString()));
        var source = v.GetProperty("source");
        Assert.Equal(("drivers", "file", "data/drivers.parquet", "event_timestamp"),
            (source.GetProperty("name").GetString(), source.GetProperty("kind").GetString(), source.GetProperty("path").GetString(), source.GetProperty("timestamp_field").GetString()));

        var services = v.GetProperty("feature_services").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["ranking_v2", "risk_service"], services.Keys.Order());
        Assert.Equal("driver_ranker", services["ranking_v2"].GetProperty("model").GetString());
        Assert.Equal(["conv_rate", "trips"], services["ranking_v2"].GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        // No model tag: the service's name is the model; no feature list: every feature of the view.
        Assert.Equal("risk_service", services["risk_service"].GetProperty("model").GetString());
        Assert.Equal(["conv_rate", "trips", "acc_rate"], services["risk_service"].GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(["driver_ranker", "risk_service"], v.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task A_view_materialized_up_to_now_is_fresh_and_shows_its_last_run_and_interval()
    {
        var (_, json) = await GetAsync("/api/catalog/feature-views/driver_stats");
        var f = json.RootElement.GetProperty("freshness");
        Assert.Equal("fresh", f.GetProperty("status").GetString());
        Assert.False(f.GetProperty("stale").GetBoolean());
        Assert.Equal(3600, f.GetProperty("sla_seconds").GetDouble());
        Assert.True(f.GetProperty("age_seconds").GetDouble() < 3600);

        var m = json.RootElement.GetProperty("materialization");
        var run = m.GetProperty("last_run");
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(1.0, run.GetProperty("progress").GetDouble());
        Assert.Equal(run.GetProperty("partitions").GetInt32(), run.GetProperty("partitions_done").GetInt32());
        Assert.True(run.GetProperty("rows_written").GetInt64() >= 1);
        Assert.Equal(1, m.GetProperty("intervals_recorded").GetInt32());
        var interval = Assert.Single(m.GetProperty("intervals").EnumerateArray());
        Assert.Equal(server.StartedAt.ToUnixTimeMilliseconds(), interval.GetProperty("end").GetDateTimeOffset().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_view_materialized_long_ago_is_stale_against_its_sla()
    {
        var (_, json) = await GetAsync("/api/catalog/feature-views/driver_daily");
        var f = json.RootElement.GetProperty("freshness");
        Assert.Equal("stale", f.GetProperty("status").GetString());
        Assert.True(f.GetProperty("stale").GetBoolean());
        Assert.Equal(new DateTimeOffset(2024, 1, 3, 0, 0, 0, TimeSpan.Zero), f.GetProperty("fresh_as_of").GetDateTimeOffset());
        Assert.True(f.GetProperty("age_seconds").GetDouble() > f.GetProperty("sla_seconds").GetDouble());
    }

    [Fact]
    public async Task A_view_never_materialized_says_so_and_one_without_sla_is_never_stale()
    {
        var (_, json) = await GetAsync("/api/catalog/feature-views/city_stats");
        var f = json.RootElement.GetProperty("freshness");
        Assert.Equal("never_materialized", f.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, f.GetProperty("age_seconds").ValueKind);
        Assert.Equal(JsonValueKind.Null, f.GetProperty("sla_seconds").ValueKind);
        Assert.Equal("idle", json.RootElement.GetProperty("materialization").GetProperty("last_run").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_views_history_lists_the_versions_that_touched_it_with_field_diffs_newest_first()
    {
        var (_, json) = await GetAsync("/api/catalog/feature-views/driver_stats");
        var history = json.RootElement.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal([2L, 1L], history.Select(h => h.GetProperty("version").GetInt64()));
        Assert.Equal("changed", history[0].GetProperty("change").GetString());
        Assert.Equal("added", history[1].GetProperty("change").GetString());
        var fields = history[0].GetProperty("fields").EnumerateArray().ToDictionary(
            x => x.GetProperty("field").GetString()!, x => (Before: x.GetProperty("before").GetString(), After: x.GetProperty("after").GetString()));
        Assert.Equal(("2h", "1h"), fields["freshness_sla"]);
        Assert.Equal((null, "gold"), fields["tags.tier"]);
        Assert.Equal((null, "Float64"), fields["features.acc_rate.type"]);

        // driver_daily did not change in version 2.
        var (_, daily) = await GetAsync("/api/catalog/feature-views/driver_daily");
        Assert.Equal([1L], daily.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("version").GetInt64()));
    }

    [Fact]
    public async Task The_view_list_has_every_view_with_freshness_and_the_dashboard_link()
    {
        var (status, json) = await GetAsync("/api/catalog/feature-views");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["driver_stats", "driver_daily", "late_stats", "city_stats"], json.RootElement.GetProperty("feature_views").EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        Assert.Equal("/dashboard/", json.RootElement.GetProperty("dashboard_url").GetString());
    }

    [Theory]
    [InlineData("/api/catalog/feature-views/no_such_view", 404, "feature view 'no_such_view' is not in the registry of project")]
    [InlineData("/api/catalog/feature-views/no_such_view", 404, "known: driver_stats, driver_daily, late_stats, city_stats")]
    [InlineData("/api/catalog/nothing-here", 404, "'/api/catalog/nothing-here' is not a catalog endpoint")]
    [InlineData("/api/catalog/search?kind=view", 400, "kind 'view' is not a catalog kind; known: feature_view, feature")]
    [InlineData("/api/catalog/search?q=a&q=b", 400, "query parameter 'q' is given 2 times")]
    [InlineData("/ui/..%2Fappsettings.json", 404, "is not a file of Granary's UI")]
    [InlineData("/ui/nope.js", 404, "'/ui/nope.js' is not a file of Granary's UI")]
    public async Task Bad_requests_answer_the_gateways_json_error_naming_the_value(string path, int expected, string message)
    {
        var (status, json) = await GetAsync(path);
        Assert.Equal(expected, (int)status);
        Assert.Equal("granary", json.RootElement.GetProperty("module").GetString());
        Assert.Contains(message, json.RootElement.GetProperty("message").GetString());
        Assert.Equal(expected, json.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task The_ui_is_served_from_the_gateway_with_no_external_resources()
    {
        var redirect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.Http.BaseAddress }.GetAsync("/ui");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/ui/", redirect.Headers.Location!.OriginalString);
        foreach (var (file, type) in new[] { ("", "text/html"), ("app.js", "text/javascript"), ("app.css", "text/css") })
        {
            var response = await server.Http.GetAsync("/ui/" + file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith(type, response.Content.Headers.ContentType!.ToString());
            Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
            // The one absolute URL allowed is the SVG namespace, a name, never fetched.
            var text = (await response.Content.ReadAsStringAsync()).Replace("http://www.w3.org/2000/svg", "");
            Assert.DoesNotContain("http://", text);
            Assert.DoesNotContain("https://", text);
        }
    }

    private async Task<List<Result>> SearchAsync(string query)
    {
        var (status, json) = await GetAsync("/api/catalog/search" + query);
        Assert.Equal(HttpStatusCode.OK, status);
        return json.RootElement.GetProperty("results").EnumerateArray()
            .Select(r => new Result(r.GetProperty("kind").GetString()!, r.GetProperty("name").GetString()!, r.Clone())).ToList();
    }

    private async Task<(HttpStatusCode, JsonDocument)> GetAsync(string path)
    {
        using var response = await server.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.False(string.IsNullOrEmpty(body), $"{path}: empty body with {response.StatusCode}");
        return (response.StatusCode, JsonDocument.Parse(body));
    }

    private sealed record Result(string Kind, string Name, JsonElement Json);
}
