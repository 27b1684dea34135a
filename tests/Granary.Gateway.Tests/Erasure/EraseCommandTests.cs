using Granary.Testing;

namespace Granary.Gateway.Tests.Erasure;

/// <summary>
/// <c>granary erase</c> on the repository's own stores (no server), as an operator runs it: the sample repository, a driver
/// pushed online and into the single Parquet file behind the push source, erased, then NOT_FOUND and recorded in the audit
/// log under the operating-system user.
/// </summary>
public sealed class EraseCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "granary-erase-cli-" + Guid.NewGuid().ToString("N"));

    private string Repo => Path.Combine(_folder, "erasedemo");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var (code, output) = await CliRunner.RunAsync(args);
        Assert.True(code == 0, output);
        return output;
    }

    [Fact]
    public async Task Erase_removes_a_pushed_driver_locally_reports_each_place_and_is_audited()
    {
        await RunAsync("init", Repo);
        await RunAsync("--repo", Repo, "apply");
        var rows = Path.Combine(_folder, "rows.json");
        var at = DateTimeOffset.UtcNow.AddMinutes(-10).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(rows, $$"""[{"driver_id": 99001, "event_timestamp": "{{at}}", "created": "{{at}}", "conv_rate": 0.625, "acc_rate": 0.5}]""");
        await RunAsync("--repo", Repo, "push", "driver_stats_push", "--file", rows, "--to", "online_and_offline");
        Assert.Contains("0.625", await RunAsync("--repo", Repo, "get-online-features", "--features", "driver_stats_fresh:conv_rate", "--entity", "driver_id=99001"));

        var erase = await RunAsync("--repo", Repo, "erase", "--entity", "driver_id=99001");

        // Both driver views read the pushed single file (Granary writes it): one pushed row removed from it, online rows from both views.
        Assert.Contains("from 2 feature view(s)", erase);
        Assert.Matches(@"offline_store\s*│\s*driver_stats_source\s*│\s*parquet data/driver_stats.parquet\s*│\s*1\s", erase);
        Assert.Matches(@"online_store\s*│[^\n]*│\s*sqlite\s*│\s*1\s", erase);
        var read = await RunAsync("--repo", Repo, "get-online-features", "--features", "driver_stats_fresh:conv_rate", "--entity", "driver_id=99001");
        Assert.Contains("NOT_FOUND", read);
        Assert.DoesNotContain("0.625", read);
        var audit = await RunAsync("--repo", Repo, "audit", "tail", "--object", "driver_stats_fresh");
        Assert.Contains("ERASE", audit);
        Assert.Contains("os:" + Environment.UserName, audit);
        Assert.Contains("key_hash=", audit);
        Assert.DoesNotContain("99001", audit);

        var (code, output) = await CliRunner.RunAsync("--repo", Repo, "erase", "--entity", "driver_id");
        Assert.Equal(1, code);
        Assert.Contains("--entity 'driver_id' is not <join key>=<value>", output);
    }
}
