namespace Granary.Registry.Tests;

/// <summary>The granary CLI from init to rollback, in a temporary folder, each command with its own embedded silo.</summary>
public sealed class CliEndToEndTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "granary-registry-tests", "cli-" + Guid.NewGuid().ToString("N"));

    private string Repo => Path.Combine(_folder, "demo");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private void Edit(string relative, string from, string to)
    {
        var path = Path.Combine(Repo, relative);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Init_then_apply_then_history_succeed_with_the_expected_output()
    {
        var init = await CliRunner.RunAsync("init", Repo);
        Assert.True(init.ExitCode == 0, init.Output);
        Assert.Contains("Created feature repository demo", init.Output);
        Assert.Contains("data/driver_stats.parquet      10805 rows", init.Output);
        Assert.True(File.Exists(Path.Combine(Repo, "data", "driver_stats.parquet")));
        Assert.True(File.Exists(Path.Combine(Repo, "transforms", "conv_rate.cs")));

        var apply = await CliRunner.RunAsync("--repo", Repo, "apply");
        Assert.True(apply.ExitCode == 0, apply.Output);
        Assert.Contains("12 to add, 0 to change, 0 to remove.", apply.Output);
        Assert.Contains("Applied: project demo is now at registry version 1.", apply.Output);

        var history = await CliRunner.RunAsync("registry", "history", "--repo", Repo);
        Assert.True(history.ExitCode == 0, history.Output);
        Assert.Contains("1 (current)", history.Output);
        Assert.Contains("apply: 12 added, 0 changed, 0 removed", history.Output);
    }

    [Fact]
    public async Task Plan_shows_changed_fields_and_breaking_apply_needs_force_and_rollback_restores()
    {
        Assert.Equal(0, (await CliRunner.RunAsync("init", Repo)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("--repo", Repo, "apply")).ExitCode);

        Edit("features/driver.yaml", "ttl: 1d", "ttl: 6h");
        var plan = await CliRunner.RunAsync("--repo", Repo, "plan");
        Assert.True(plan.ExitCode == 0, plan.Output);
        Assert.Contains("driver_hourly_stats", plan.Output);
        Assert.Contains("ttl: 1d -> 6h", plan.Output);
        Assert.Contains("0 to add, 1 to change, 0 to remove.", plan.Output);

        // acc_rate changes type while driver_activity_v1 uses it.
        Edit("features/driver.yaml", "  - name: acc_rate\n        type: Float32", "  - name: acc_rate\n        type: Float64");
        var refused = await CliRunner.RunAsync("--repo", Repo, "apply");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("feature service 'driver_activity_v1' uses driver_hourly_stats:acc_rate, which changes type from Float32 to Float64", refused.Output);
        Assert.Contains("--force", refused.Output);

        var forced = await CliRunner.RunAsync("--repo", Repo, "apply", "--force");
        Assert.True(forced.ExitCode == 0, forced.Output);
        Assert.Contains("registry version 2", forced.Output);

        // Going back to version 1 changes acc_rate's type again: the same guard as apply.
        var refusedRollback = await CliRunner.RunAsync("--repo", Repo, "registry", "rollback", "1");
        Assert.Equal(1, refusedRollback.ExitCode);
        Assert.Contains("roll back to project 'demo' refused", refusedRollback.Output);
        Assert.Contains("which changes type from Float64 to Float32", refusedRollback.Output);
        Assert.Contains("--force", refusedRollback.Output);

        var rollback = await CliRunner.RunAsync("--repo", Repo, "registry", "rollback", "1", "--force");
        Assert.True(rollback.ExitCode == 0, rollback.Output);
        Assert.Contains("is now at registry version 3, equal to version 1", rollback.Output);

        var show = await CliRunner.RunAsync("--repo", Repo, "registry", "show", "driver_hourly_stats");
        Assert.True(show.ExitCode == 0, show.Output);
        Assert.Contains("ttl: 1d", show.Output);
        Assert.Contains("type: Float32", show.Output);

        var list = await CliRunner.RunAsync("--repo", Repo, "registry", "list");
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Contains("registry version 3", list.Output);
        Assert.Contains("transformed_conv_rate", list.Output);
    }

    [Fact]
    public async Task Errors_exit_non_zero_with_a_clear_message()
    {
        var noRepo = await CliRunner.RunAsync("--repo", Path.Combine(_folder, "nothing-here"), "plan");
        Assert.Equal(1, noRepo.ExitCode);
        Assert.Contains("run 'granary init <dir>'", noRepo.Output);

        Assert.Equal(0, (await CliRunner.RunAsync("init", Repo)).ExitCode);
        var again = await CliRunner.RunAsync("init", Repo);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds a granary.yaml", again.Output);

        Edit("features/driver.yaml", "entities: [driver]", "entities: [drivr]");
        var invalid = await CliRunner.RunAsync("--repo", Repo, "apply");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("features/driver.yaml:", invalid.Output);
        Assert.Contains("references unknown entity 'drivr'; known: customer, driver", invalid.Output);

        var missingVersion = await CliRunner.RunAsync("--repo", Repo, "registry", "rollback", "5");
        Assert.Equal(1, missingVersion.ExitCode);
        Assert.Contains("has no registry version 5", missingVersion.Output);

        var unknownCommand = await CliRunner.RunAsync("--repo", Repo, "aplly");
        Assert.NotEqual(0, unknownCommand.ExitCode);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("init", "--help")]
    [InlineData("apply", "--help")]
    [InlineData("registry", "rollback", "--help")]
    public async Task Help_is_available_everywhere(params string[] args)
    {
        var (code, output) = await CliRunner.RunAsync(args);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
        Assert.Contains("--repo", output);
    }
}

/// <summary>The built <c>granary</c> executable as a separate process: exit codes reach the shell.</summary>
public sealed class CliProcessTests
{
    private static async Task<(int ExitCode, string Output)> RunGranaryAsync(string workingDirectory, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "granary.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task The_executable_exits_1_with_a_message_when_there_is_no_repository()
    {
        var empty = Directory.CreateTempSubdirectory("granary-registry-tests-").FullName;
        try
        {
            var (code, output) = await RunGranaryAsync(empty, "plan");
            Assert.Equal(1, code);
            Assert.Contains("no granary.yaml in", output);
            var help = await RunGranaryAsync(empty, "--help");
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("registry", help.Output);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }
}
