namespace Granary.Observability.Tests;

/// <summary>The shipped rules and configuration pass Prometheus' own tool, and its unit tests of them pass.</summary>
public sealed class AlertRulesTests
{
    [Fact]
    public async Task Promtool_accepts_the_alert_rules()
    {
        var (code, output) = await Tool.RunAsync("promtool", DeployFiles.PrometheusFolder, "check", "rules", "granary-alerts.yml");
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS: 12 rules found", output);
    }

    [Fact]
    public async Task Promtool_accepts_the_cluster_scrape_configuration()
    {
        var (code, output) = await Tool.RunAsync("promtool", DeployFiles.PrometheusFolder, "check", "config", "prometheus.yml");
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Alert_rule_unit_tests_pass_with_cases_that_fire_and_cases_that_do_not()
    {
        var (code, output) = await Tool.RunAsync("promtool", DeployFiles.PrometheusFolder, "test", "rules", "granary-alerts.test.yml");
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output);
        // Every rule has a firing case in the tests.
        var tests = await File.ReadAllTextAsync(Path.Combine(DeployFiles.PrometheusFolder, "granary-alerts.test.yml"));
        var rules = await File.ReadAllTextAsync(Path.Combine(DeployFiles.PrometheusFolder, "granary-alerts.yml"));
        foreach (var line in rules.Split('\n').Where(l => l.TrimStart().StartsWith("- alert: ", StringComparison.Ordinal)))
        {
            var name = line.Trim()["- alert: ".Length..];
            Assert.True(tests.Contains($"alertname: {name}\n        exp_alerts:\n          - exp_labels", StringComparison.Ordinal), $"no firing case for {name}");
        }
    }
}
