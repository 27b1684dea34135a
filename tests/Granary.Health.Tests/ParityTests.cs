using System.Net;
using System.Text;
using System.Text.Json;
using Granary.Grains.Health;
using Granary.Grains.Online;
using Granary.FeatureHealth;
using Granary.Online;
using Microsoft.Extensions.DependencyInjection;
using Granary.Testing;
using Orleans.Runtime;

namespace Granary.Health.Tests;

/// <summary>Parity on a real server: 100% after materialization, a planted online value found with its entity and feature.</summary>
public sealed class ParityTests(HealthServer server) : IClassFixture<HealthServer>
{
    [Fact]
    public async Task Parity_is_complete_after_materialization_with_ttl_and_null_rules_applied_on_both_sides()
    {
        using var response = await server.Http.PostAsync("/parity", Json(new { views = new[] { "driver_stats" }, sample = 100, seed = 7 }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var view = Assert.Single(json.RootElement.GetProperty("views").EnumerateArray());
        Assert.Equal("driver_stats", view.GetProperty("feature_view").GetString());
        // 66 entities have offline rows: 60 fresh, 5 outside the ttl (offline NULL = online OUTSIDE_MAX_AGE), 1 with a NULL.
        Assert.Equal(66, view.GetProperty("entities").GetInt32());
        Assert.Equal(66 * 4, view.GetProperty("compared").GetInt64());
        Assert.Equal(1.0, view.GetProperty("parity_rate").GetDouble());
        Assert.Empty(view.GetProperty("mismatches").EnumerateArray());

        // The last result is kept per view for the UI.
        using var last = JsonDocument.Parse(await server.Http.GetStringAsync("/api/health/parity"));
        Assert.Contains(last.RootElement.GetProperty("views").EnumerateArray(), v => v.GetProperty("feature_view").GetString() == "driver_stats"
            && v.GetProperty("parity_rate").GetDouble() == 1.0);
    }

    [Fact]
    public async Task A_value_written_straight_to_the_online_store_is_reported_with_its_entity_feature_and_both_values()
    {
        // Driver 7 online gets conv_rate 0.99 (offline at now says 0.07), same trips, written past the entity grain and
        // the materialization; then the silo's cached rows of the view are dropped, as after any out-of-band write.
        var store = server.Store.Services.GetRequiredService<IOnlineStore>();
        var key = EntityKey.Create(server.Project, "driver_id", "7");
        await store.WriteAsync([new OnlineRow(key, "planted_stats", server.Now.AddMinutes(-30), server.Now.AddMinutes(-30),
            new Dictionary<string, object?> { ["conv_rate"] = 0.99, ["trips"] = 70L })]);
        server.Store.Services.GetRequiredService<OnlineCacheEpochs>().Invalidate(server.Project, ["planted_stats"]);

        var report = await server.Store.Grains.GetGrain<IFeatureHealthGrain>(server.Project)
            .RunParityAsync(new ParityRequest { Views = ["planted_stats"], Sample = 100, Seed = 1 });
        var view = Assert.Single(report.Views);
        Assert.Equal(66 * 2, view.Compared);
        Assert.Equal(66 * 2 - 1, view.Matching);
        Assert.Equal((66.0 * 2 - 1) / (66 * 2), view.ParityRate, 12);
        var mismatch = Assert.Single(view.Mismatches);
        Assert.Equal("7", mismatch.Entity["driver_id"]);
        Assert.Equal("conv_rate", mismatch.Feature);
        Assert.Equal("0.07", mismatch.Offline);
        Assert.Equal("0.99", mismatch.Online);
        Assert.Equal("PRESENT", mismatch.OnlineStatus);
        Assert.Equal("values differ", mismatch.Reason);

        // The CLI reports it and fails the minimum rate (exit code 2).
        var (code, output) = await RunCliAsync("parity", "--repo", server.RepositoryRoot, "--views", "planted_stats", "--seed", "1");
        Assert.True(code == 2, output);
        Assert.Contains("planted_stats", output);
        Assert.Contains("driver_id=7", output);
        Assert.Contains("values differ", output);
    }

    [Fact]
    public async Task The_cli_passes_at_full_parity_and_names_an_unknown_view()
    {
        var (code, output) = await RunCliAsync("parity", "--repo", server.RepositoryRoot, "--views", "driver_stats", "--sample", "20");
        Assert.True(code == 0, output);
        Assert.Contains("100.00%", output);

        (code, output) = await RunCliAsync("parity", "--repo", server.RepositoryRoot, "--views", "no_such_view");
        Assert.Equal(1, code);
        Assert.Contains("feature view 'no_such_view' is not in the registry", output);
    }

    [Fact]
    public async Task A_sample_smaller_than_the_view_checks_that_many_entities_and_repeats_with_its_seed()
    {
        var grain = server.Store.Grains.GetGrain<IFeatureHealthGrain>(server.Project);
        // Sampling 10 of 66 with one seed twice gives one sample; the sampled entities decide which rows are compared,
        // so identical counts on a view with every rule in play are the observable part; a planted view shows the entities.
        var first = await grain.RunParityAsync(new ParityRequest { Views = ["driver_stats"], Sample = 10, Seed = 3 });
        var second = await grain.RunParityAsync(new ParityRequest { Views = ["driver_stats"], Sample = 10, Seed = 3 });
        Assert.Equal(10, first.Views[0].Entities);
        Assert.Equal(first.Views[0].Compared, second.Views[0].Compared);
    }

    [Fact]
    public async Task Bad_parity_requests_are_400_or_404_naming_the_value()
    {
        using var unknown = await server.Http.PostAsync("/parity", Json(new { views = new[] { "nope" } }));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("views[0] 'nope' is not a feature view", await unknown.Content.ReadAsStringAsync());

        using var sample = await server.Http.PostAsync("/parity", Json(new { sample = 0 }));
        Assert.Equal(HttpStatusCode.BadRequest, sample.StatusCode);
        Assert.Contains("'sample' is 0", await sample.Content.ReadAsStringAsync());

        using var malformed = await server.Http.PostAsync("/parity", new StringContent("{\"views\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task The_schedule_from_granary_yaml_is_a_reminder_and_its_tick_runs_a_check_that_feeds_the_gauges()
    {
        var grain = server.Store.Grains.GetGrain<IFeatureHealthGrain>(server.Project);
        // The silo registered it once active (health.parity_every: 1h); no drift schedule without a baseline.
        var table = server.Store.Services.GetRequiredService<Orleans.IReminderTable>();
        ReminderEntry? entry = null;
        for (var i = 0; i < 100 && entry is null; i++)
        {
            entry = (await table.ReadRows(grain.GetGrainId())).Reminders.FirstOrDefault(r => r.ReminderName == "parity-schedule");
            if (entry is null) await Task.Delay(100);
        }
        Assert.NotNull(entry);
        Assert.Equal(TimeSpan.FromHours(1), entry.Period);
        Assert.DoesNotContain((await table.ReadRows(grain.GetGrainId())).Reminders, r => r.ReminderName == "drift-schedule");

        // A tick runs the check granary.yaml describes (every online view, 100 entities) and records the gauges.
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        var rates = new Dictionary<string, double>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == HealthMetrics.MeterName && instrument.Name == HealthMetrics.Names.ParityRate) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag.Key == "feature_view") rates[(string)tag.Value!] = value;
        });
        listener.Start();
        await grain.ReceiveReminder("parity-schedule", default);
        var last = await grain.GetParityAsync();
        Assert.Contains(last.Views, v => v.FeatureView == "driver_stats");
        Assert.Contains(last.Views, v => v.FeatureView == "planted_stats");
        listener.RecordObservableInstruments();
        Assert.Equal(last.Views.Single(v => v.FeatureView == "driver_stats").ParityRate, rates["driver_stats"]);
    }

    internal static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    internal static Task<(int Code, string Output)> RunCliAsync(params string[] args) => CliRunner.RunAsync(args);
}
