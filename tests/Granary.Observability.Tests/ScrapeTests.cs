using System.Globalization;

namespace Granary.Observability.Tests;

/// <summary>
/// /metrics of a running silo and gateway after known traffic: the exported names and labels as documented, and a real
/// Prometheus scraping both every second answering PromQL with the figures the traffic must produce.
/// </summary>
public sealed class ScrapeTests(ObservedCluster cluster) : IClassFixture<ObservedCluster>
{
    [Fact]
    public async Task The_gateway_exports_request_and_served_value_metrics_with_bounded_labels()
    {
        var text = await MetricsAsync($"http://{cluster.GatewayTarget}");
        AssertHas(text, "granary_online_request_duration_seconds_bucket{endpoint=\"get-online-features\",protocol=\"rest\",le=\"0.01\"}");
        AssertHas(text, "granary_online_request_duration_seconds_count{endpoint=\"feast.serving.ServingService/GetOnlineFeatures\",protocol=\"grpc\"} 3");
        AssertHas(text, "granary_online_requests_total{endpoint=\"get-online-features\",protocol=\"rest\",status=\"2xx\"} 4");
        AssertHas(text, "granary_online_requests_total{endpoint=\"get-online-features\",protocol=\"rest\",status=\"4xx\"} 1");
        AssertHas(text, "granary_online_requests_total{endpoint=\"granary.gateway.v1.Granary/GetOnlineFeatures\",protocol=\"grpc\",status=\"NOT_FOUND\"} 1");
        AssertHas(text, "granary_online_requests_total{endpoint=\"push\",protocol=\"rest\",status=\"4xx\"} 1");
        AssertHas(text, $"granary_online_feature_values_total{{feature_view=\"driver_stats\",status=\"NOT_FOUND\"}} {KnownTraffic.NotFoundValues}");
        AssertHas(text, $"granary_online_feature_values_total{{feature_view=\"driver_stats\",status=\"PRESENT\"}} {KnownTraffic.ServedValues - KnownTraffic.NotFoundValues}");
        AssertHas(text, $"granary_online_stale_values_total{{feature_view=\"driver_stats\"}} {KnownTraffic.ServedValues - KnownTraffic.NotFoundValues}");
        AssertHas(text, "granary_feature_view_freshness_sla_seconds{feature_view=\"driver_stats\"} 3600");
        AssertHas(text, "granary_feature_freshness_seconds{feature_view=\"driver_stats\"}");
        // No label carries an entity key.
        Assert.DoesNotContain("driver_id", text);
        Assert.DoesNotContain("\"99\"", text);
    }

    [Fact]
    public async Task The_silo_exports_materialization_push_and_orleans_metrics()
    {
        var text = await MetricsAsync($"http://{cluster.SiloTarget}");
        AssertHas(text, $"granary_materialization_rows_written_total{{feature_view=\"driver_stats\"}} {KnownTraffic.MaterializedRows}");
        AssertHas(text, $"granary_materialization_features_written_total{{feature_view=\"driver_stats\"}} {KnownTraffic.MaterializedRows * 2}");
        AssertHas(text, "granary_materialization_last_success_timestamp_seconds{feature_view=\"driver_stats\"}");
        AssertHas(text, "granary_materialization_lag_seconds{feature_view=\"driver_stats\"}");
        AssertHas(text, $"granary_push_rows_total{{push_source=\"driver_push\"}} {KnownTraffic.PushedRows}");
        AssertHas(text, $"granary_push_rejected_rows_total{{push_source=\"driver_push\"}} {KnownTraffic.RejectedRows}");
        AssertHas(text, $"granary_push_duplicates_dropped_total{{push_source=\"driver_push\"}} {KnownTraffic.DuplicateRows}");
        AssertHas(text, "granary_materialization_failures_total{feature_view=\"gone_stats\"} 1");
        // At zero from the first run on, so Prometheus sees a first failure as an increase.
        AssertHas(text, "granary_materialization_failures_total{feature_view=\"driver_stats\"} 0");
        AssertHas(text, $"granary_materialization_schedule_seconds{{feature_view=\"driver_stats\"}} {KnownTraffic.Schedule.TotalSeconds}");
        // Orleans' own meters (prefix: the meter name, Microsoft.Orleans).
        AssertHas(text, "\nmicrosoft_orleans_");
    }

    [Fact]
    public async Task Prometheus_scrapes_both_and_PromQL_returns_the_known_traffic()
    {
        await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]>
        {
            ["gateway"] = [cluster.GatewayTarget],
            ["silo"] = [cluster.SiloTarget],
        });
        Assert.Equal(2, await prometheus.WaitForAsync("sum(up)", 2));

        Assert.Equal(KnownTraffic.Requests, await prometheus.WaitForAsync("sum(granary_online_requests_total)", KnownTraffic.Requests));
        Assert.Equal(KnownTraffic.Requests, await prometheus.WaitForAsync("sum(granary_online_request_duration_seconds_count)", KnownTraffic.Requests));
        Assert.Equal(3, await prometheus.WaitForAsync("sum(granary_online_requests_total{status!~\"2xx|OK\"})", 3));
        Assert.Equal(KnownTraffic.FeastGrpcReads, await prometheus.WaitForAsync("sum(granary_online_requests_total{protocol=\"grpc\",status=\"OK\"})", KnownTraffic.FeastGrpcReads));
        // Hit rate: the non-NOT_FOUND share of served values (3 of 4 drivers are materialized).
        Assert.Equal(0.75, await prometheus.WaitForAsync(
            "sum(granary_online_feature_values_total{status!=\"NOT_FOUND\"}) / sum(granary_online_feature_values_total)", 0.75));
        Assert.Equal(KnownTraffic.MaterializedRows, await prometheus.WaitForAsync(
            "sum(granary_materialization_rows_written_total{job=\"silo\",feature_view=\"driver_stats\"})", KnownTraffic.MaterializedRows));
        Assert.Equal(KnownTraffic.DuplicateRows, await prometheus.WaitForAsync("sum(granary_push_duplicates_dropped_total{job=\"silo\"})", KnownTraffic.DuplicateRows));
        Assert.Equal(KnownTraffic.RejectedRows, await prometheus.WaitForAsync("sum(granary_push_rejected_rows_total{job=\"silo\"})", KnownTraffic.RejectedRows));

        // The last success happened during this test run; the data (2024) is older than the one-hour SLA.
        var lastSuccess = await prometheus.ScalarAsync("max(granary_materialization_last_success_timestamp_seconds)");
        Assert.InRange(lastSuccess!.Value, DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        Assert.True(await prometheus.ScalarAsync("min(granary_feature_freshness_seconds{feature_view=\"driver_stats\"})") > 3600);

        // Materialized just now on a 6-hour schedule: not missed; the failed view fails.
        Assert.Equal(1, await prometheus.WaitForAsync("count(ALERTS{alertname=\"GranaryMaterializationFailing\",feature_view=\"gone_stats\"})", 1));
        Assert.Null(await prometheus.ScalarAsync("ALERTS{alertname=\"GranaryMaterializationMissed\"}"));

        // The shipped rule sees the stale view: pending (it must hold for 5 minutes before firing).
        Assert.Equal(1, await prometheus.WaitForAsync("count(ALERTS{alertname=\"GranaryFeatureViewStale\",feature_view=\"driver_stats\",alertstate=\"pending\"})", 1));
        Assert.Null(await prometheus.ScalarAsync("ALERTS{alertname=\"GranaryFeatureViewStale\",feature_view=\"pushed_stats\"}"));
    }

    private static void AssertHas(string text, string expected)
    {
        if (text.Contains(expected, StringComparison.Ordinal)) return;
        var granary = string.Join("\n", text.Split('\n').Where(l => l.StartsWith("granary_", StringComparison.Ordinal)));
        Assert.Fail($"/metrics has no '{expected}'; its granary_ series:\n{granary}");
    }

    private static async Task<string> MetricsAsync(string baseUrl)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var text = await http.GetStringAsync("/metrics");
        return text.Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
