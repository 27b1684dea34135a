using Granary.Quality;
using Granary.Registry.Sql;

namespace Granary.Registry.Tests;

/// <summary>
/// The CLI around data rules: <c>apply</c> refuses a rule that does not fit its field (file, line, fix) and registers
/// nothing; <c>plan</c> shows a rule change; <c>quarantine list/show/drop</c> read and delete entries of the repository's
/// registry database.
/// </summary>
public sealed class DataRuleCliTests : IDisposable
{
    private const string File = "features/payments.yaml";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "granary-rule-cli", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    // `granary init` writes the sample repository with its data; this adds a view over the sample's driver data.
    private async Task InitAsync()
    {
        var init = await CliRunner.RunAsync("init", _root);
        Assert.True(init.ExitCode == 0, init.Output);
    }

    private int LineOf(string text)
        => System.IO.File.ReadAllLines(Path.Combine(_root, File)).Select((l, i) => (l, i)).First(x => x.l.Contains(text, StringComparison.Ordinal)).i + 1;

    private void WriteView(string rules) => System.IO.File.WriteAllText(Path.Combine(_root, File), $"""
        sources:
          - name: payments_source
            type: file
            path: data/driver_stats.parquet
            timestamp_field: event_timestamp
        feature_views:
          - name: payments
            entities: [driver]
            source: payments_source
            schema:
              - name: conv_rate
                type: Float32
                rules: {rules}

        """);

    [Fact]
    public async Task Apply_refuses_a_bad_rule_naming_file_line_and_fix_and_plan_shows_a_rule_change()
    {
        await InitAsync();
        WriteView("{pattern: \"[a-z]+\"}");
        var refused = await CliRunner.RunAsync("--repo", _root, "apply");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"{File}:{LineOf("rules:")}: feature view 'payments' field 'conv_rate' (Float32): pattern needs a String field; use min/max or allowed for Float32", refused.Output);
        var history = await CliRunner.RunAsync("--repo", _root, "registry", "history");
        Assert.DoesNotContain("version 1", history.Output);

        WriteView("{min: 0, max: 1}");
        var applied = await CliRunner.RunAsync("--repo", _root, "apply");
        Assert.True(applied.ExitCode == 0, applied.Output);
        WriteView("{min: 0, max: {value: 1, on_break: quarantine}}");
        var plan = await CliRunner.RunAsync("--repo", _root, "plan");
        Assert.True(plan.ExitCode == 0, plan.Output);
        Assert.Contains("features.conv_rate.rules.max.on_break", plan.Output);
        Assert.Contains("quarantine", plan.Output);
    }

    [Fact]
    public async Task Quarantine_list_show_and_drop_work_on_the_registry_database()
    {
        await InitAsync();
        WriteView("{min: 0}");
        Assert.Equal(0, (await CliRunner.RunAsync("--repo", _root, "apply")).ExitCode);
        var project = Granary.Repository.RepositoryConfig.Load(_root).Project;
        var store = new SqliteRegistryStore(Path.Combine(_root, "data", "registry.db"));
        await store.InitializeAsync();
        await ((IQuarantineStore)store).AddQuarantinedAsync(project, [new QuarantineEntry("payments", "conv_rate.max", "payments_push", """{"driver_id":"1001","conv_rate":"7.5"}""")], DateTimeOffset.UtcNow);
        var id = (await ((IQuarantineStore)store).ListQuarantinedAsync(project, null, 1)).Single().Id;

        var list = await CliRunner.RunAsync("--repo", _root, "quarantine", "list");
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Matches(@"payments\s*│\s*conv_rate\.max\s*│\s*1\s", list.Output);
        var show = await CliRunner.RunAsync("--repo", _root, "quarantine", "show", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(show.ExitCode == 0, show.Output);
        Assert.Contains("\"conv_rate\": \"7.5\"", show.Output);
        var drop = await CliRunner.RunAsync("--repo", _root, "quarantine", "drop", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(drop.ExitCode == 0, drop.Output);
        var missing = await CliRunner.RunAsync("--repo", _root, "quarantine", "show", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains($"project '{project}' has no quarantine entry {id}", missing.Output);
        Assert.Contains($"The quarantine of project {project} is empty.", (await CliRunner.RunAsync("--repo", _root, "quarantine", "list")).Output);
    }
}
