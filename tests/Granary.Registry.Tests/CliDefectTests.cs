using Granary.Definitions;
using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary>
/// What a new user hit in the first hour (issue 9), each pinned where a user sees it: unclosed brackets, user text read as
/// console markup, a TTL too long for a duration, version 0, and output that is redirected into files.
/// </summary>
public sealed class CliDefectTests : IDisposable
{
    private const string Driver = "features/driver.yaml";
    private readonly TestRepository _repo = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _repo.Dispose();
    }

    private Task<(int ExitCode, string Output)> Granary(params string[] args) => CliRunner.RunAsync(["--repo", _repo.Root, .. args]);

    // Registers the definitions as version 1 the way apply does, without the data files the column check would read.
    private async Task ApplyDefinitionsAsync()
    {
        await using var registry = await Cli.LocalRegistry.OpenAsync(_repo.Root, CancellationToken.None);
        var result = await registry.Service.ApplyAsync("demo", new ApplyRequest(_repo.Load().ToSnapshot(), 0, false));
        Assert.Equal(1, result.Version);
    }

    [Theory]
    [InlineData("entities: [driver]", "entities: [driver", '[', ']')]
    [InlineData("  - name: acc_rate\n        type: Float32", "  - {name: acc_rate,\n        type: Float32", '{', '}')]
    public void An_unclosed_bracket_is_reported_at_its_file_and_line_with_the_fix(string from, string to, char open, char close)
    {
        _repo.Replace(Driver, from, to);
        var line = _repo.LineOf(Driver, to.Split('\n')[0]);

        var e = Assert.Throws<RepositoryValidationException>(() => _repo.Load());

        var error = Assert.Single(e.Errors);
        Assert.Equal(new SourceLocation(Driver, line), error.Location);
        Assert.Contains($"'{open}' is never closed", error.Message);
        Assert.Contains($"add the matching '{close}'", error.Message);
    }

    [Fact]
    public async Task An_unclosed_bracket_in_granary_yaml_is_reported_by_the_cli_with_its_line()
    {
        _repo.Replace(RepositoryConfig.FileName, "offline_store:\n  type: duckdb", "offline_store: [duckdb");
        var line = _repo.LineOf(RepositoryConfig.FileName, "offline_store: [duckdb");

        var (code, output) = await Granary("plan");

        Assert.Equal(1, code);
        Assert.Contains($"granary.yaml:{line}: YAML syntax error: '[' is never closed", output);
        // The message's own brackets print as written.
        Assert.Contains("add the matching ']' (an inline [list] or {mapping} must close before the next key)", output);
    }

    [Theory]
    [InlineData("type: Float32\n        description: Share", "type: List[Float33]\n        description: Share", "type 'List[Float33]' is unknown")]
    [InlineData("name: driver_stats_fresh", "name: x[1]", "'x[1]'")]
    public async Task Brackets_in_user_text_are_printed_not_read_as_markup(string from, string to, string expected)
    {
        _repo.Replace(Driver, from, to);

        var (code, output) = await Granary("plan");

        Assert.Equal(1, code);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("Exception", output);
    }

    [Fact]
    public async Task Brackets_in_a_changed_description_are_printed_as_written()
    {
        Cli.SampleData.Write(_repo.Root, DateTimeOffset.Parse("2026-03-01T00:00:00Z"));
        await ApplyDefinitionsAsync();
        _repo.Replace(Driver, "description: Hourly driver statistics.", "description: Hourly [driver] statistics [v2");
        var (code, output) = await Granary("plan");
        Assert.True(code == 0, output);
        Assert.Contains("description: Hourly driver statistics. -> Hourly [driver] statistics [v2", output);
    }

    [Fact]
    public void Cli_code_writes_markup_only_through_the_escaping_helper()
    {
        // The class of bug: any direct Spectre markup call with user text in it. Only CliConsole may parse markup.
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !Directory.Exists(Path.Combine(folder.FullName, "cli", "Granary.Cli"))) folder = folder.Parent;
        Assert.NotNull(folder);
        var cli = Path.Combine(folder.FullName, "cli", "Granary.Cli");
        var direct = new System.Text.RegularExpressions.Regex(@"\bMarkup(Line)?(Interpolated)?\(|new Markup\(|\bAnsiConsole\.(Markup|Write)");
        var offenders = Directory.EnumerateFiles(cli, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && Path.GetFileName(f) != "CliConsole.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(cli, f), Line: i + 1, Text: line)))
            .Where(l => direct.IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "write through CliConsole (Line, Styled, Plain, Raw) instead:\n" + string.Join("\n", offenders));
    }

    [Theory]
    [InlineData("99999999999999d")]
    [InlineData("99999999999999999999999d")]
    [InlineData("10675200d")]
    public void A_ttl_too_long_for_a_duration_is_a_file_and_line_error(string ttl)
    {
        _repo.Replace(Driver, "ttl: 1d", $"ttl: {ttl}");
        var line = _repo.LineOf(Driver, $"ttl: {ttl}");

        var e = Assert.Throws<RepositoryValidationException>(() => _repo.Load());

        var error = Assert.Single(e.Errors);
        Assert.Equal(new SourceLocation(Driver, line), error.Location);
        Assert.Equal($"feature view 'driver_hourly_stats': ttl '{ttl}' is too long; the longest duration is {DurationText.Format(DurationText.MaxValue)}; write a shorter one, or 0 for no limit", error.Message);
    }

    [Fact]
    public void The_longest_duration_still_parses()
    {
        Assert.True(DurationText.TryParse(DurationText.Format(DurationText.MaxValue), out var longest));
        Assert.Equal(DurationText.MaxValue, longest);
        Assert.False(DurationText.TryParse("99999999999999d", out _));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("show", "driver")]
    public async Task Version_0_of_a_project_with_versions_is_an_error_naming_the_current_version(params string[] command)
    {
        await ApplyDefinitionsAsync();

        var (code, output) = await Granary(["registry", .. command, "--version", "0"]);

        Assert.Equal(1, code);
        Assert.Contains("project 'demo' has no registry version 0; current version is 1", output);
        Assert.DoesNotContain("no registry version yet", output);
    }

    [Fact]
    public async Task Show_prints_definitions_and_transform_sources_byte_for_byte_at_any_console_width()
    {
        // A line far past 80 columns in both: the console must not wrap them.
        var longDescription = "Share of offers the driver accepted and completed, " + string.Concat(Enumerable.Repeat("measured over the whole hour ", 6)).TrimEnd();
        _repo.Replace(Driver, "description: Share of offers the driver accepted and completed.", $"description: {longDescription}");
        var transform = _repo.Read("transforms/conv_rate.cs").Replace("\n", $"\n// {new string('x', 150)} [not markup]\n", StringComparison.Ordinal);
        _repo.Write("transforms/conv_rate.cs", transform);
        await ApplyDefinitionsAsync();

        var source = await CliRunner.RunAsync(80, "--repo", _repo.Root, "registry", "show", "transforms/conv_rate.cs");
        Assert.Equal(0, source.ExitCode);
        Assert.Equal(transform, source.Output);

        var view = await CliRunner.RunAsync(80, "--repo", _repo.Root, "registry", "show", "driver_hourly_stats");
        Assert.Equal(0, view.ExitCode);
        Assert.Contains($"description: {longDescription}\n", view.Output);
        // What was printed loads again as the same definition.
        var reloaded = FeatureRepositoryLoader.Parse(_repo.Root, _repo.Load().Config, [("features/shown.yaml", ShownAsList(view.Output))], new Dictionary<string, string>())
            .FeatureViews.Single().Value;
        var applied = _repo.Load().FeatureViews.Single(v => v.Value.Name == "driver_hourly_stats").Value;
        Assert.Equal(RegistryJson.DefinitionsOf(new RegistrySnapshot { Project = "demo", FeatureViews = [applied] }),
            RegistryJson.DefinitionsOf(new RegistrySnapshot { Project = "demo", FeatureViews = [reloaded] }));
    }

    // `registry show` prints one object as a YAML mapping; as a definition file it is one item of its section's list.
    private static string ShownAsList(string shown)
    {
        var lines = shown.Split('\n').Where(l => !l.StartsWith('#') && l.Length > 0).ToList();
        return "feature_views:\n" + string.Join('\n', lines.Select((l, i) => (i == 0 ? "  - " : "    ") + l)) + "\n";
    }
}

/// <summary>The built executable with its output redirected, as a user piping it into a file or another program would run it.</summary>
public sealed class CliRedirectedOutputTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _repo.Dispose();
    }

    private async Task ApplyDefinitionsAsync()
    {
        await using var registry = await Cli.LocalRegistry.OpenAsync(_repo.Root, CancellationToken.None);
        await registry.Service.ApplyAsync("demo", new ApplyRequest(_repo.Load().ToSnapshot(), 0, false));
    }

    [Fact]
    public async Task Redirected_output_has_no_colour_codes_even_on_a_colour_terminal_type()
    {
        await ApplyDefinitionsAsync();
        var (code, stdout, _) = await GranaryProcess.RunAsync(_repo.Root, new() { ["TERM"] = "xterm-256color", ["COLORTERM"] = "truecolor" }, "registry", "list");
        Assert.True(code == 0, stdout);
        Assert.Contains("Project demo, registry version 1", stdout);
        Assert.DoesNotContain('\u001b', stdout);
    }

    [Fact]
    public async Task Redirected_show_of_a_transform_is_the_file_byte_for_byte()
    {
        var transform = _repo.Read("transforms/conv_rate.cs") + $"// {new string('y', 200)} [bold]not markup[/]\n";
        _repo.Write("transforms/conv_rate.cs", transform);
        await ApplyDefinitionsAsync();
        var (code, stdout, _) = await GranaryProcess.RunAsync(_repo.Root, [], "registry", "show", "transforms/conv_rate.cs");
        Assert.Equal(0, code);
        Assert.Equal(transform, stdout);
    }

    [Fact]
    public async Task On_a_terminal_NO_COLOR_turns_colour_off()
    {
        await ApplyDefinitionsAsync();
        // `script` gives the child a pseudo-terminal, so only NO_COLOR differs between the two runs.
        var coloured = await GranaryProcess.RunOnTerminalAsync(_repo.Root, new() { ["TERM"] = "xterm-256color" }, "registry", "list");
        Assert.Contains("\u001b[", coloured);
        var plain = await GranaryProcess.RunOnTerminalAsync(_repo.Root, new() { ["TERM"] = "xterm-256color", ["NO_COLOR"] = "1" }, "registry", "list");
        Assert.Contains("Project demo, registry version 1", plain);
        Assert.DoesNotMatch(@"\u001b\[[0-9;]*m", plain);
    }

    [Fact]
    public async Task Library_log_lines_reach_the_console_only_with_verbose()
    {
        Cli.SampleData.Write(_repo.Root, DateTimeOffset.Parse("2026-03-01T00:00:00Z"));
        await ApplyDefinitionsAsync();
        var entities = Path.Combine(_repo.Root, "data", "entities.csv");
        File.WriteAllText(entities, "driver_id,event_timestamp\n1001,2026-02-27T10:00:00Z\n1002,2026-02-28T10:00:00Z\n");
        string[] args = ["get-historical-features", "--entities", entities, "--features", "driver_hourly_stats:conv_rate", "--out", Path.Combine(_repo.Root, "data", "out.csv")];

        var quiet = await GranaryProcess.RunAsync(_repo.Root, [], args);
        Assert.True(quiet.ExitCode == 0, quiet.Stdout + quiet.Stderr);
        Assert.Contains("Wrote 2 rows", quiet.Stdout);
        Assert.DoesNotContain("Orleans", quiet.Stdout + quiet.Stderr);

        var verbose = await GranaryProcess.RunAsync(_repo.Root, [], [.. args, "--verbose"]);
        Assert.True(verbose.ExitCode == 0, verbose.Stdout + verbose.Stderr);
        Assert.Contains("Orleans", verbose.Stderr);
    }
}

/// <summary>Runs the <c>granary</c> executable built next to the tests as a child process.</summary>
internal static class GranaryProcess
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "granary.dll");

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string repo, Dictionary<string, string> env, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
        foreach (var a in (string[])[Dll, "--repo", repo, .. args]) start.ArgumentList.Add(a);
        start.Environment.Remove("NO_COLOR");
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs on a pseudo-terminal (util-linux <c>script</c>) and returns what the terminal received.</summary>
    public static async Task<string> RunOnTerminalAsync(string repo, Dictionary<string, string> env, params string[] args)
    {
        var command = string.Join(' ', ((string[])["dotnet", Dll, "--repo", repo, .. args]).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var (code, stdout, stderr) = await RunScriptAsync(command, env);
        Assert.True(code == 0, stdout + stderr);
        return stdout;
    }

    private static async Task<(int, string, string)> RunScriptAsync(string command, Dictionary<string, string> env)
    {
        var start = new System.Diagnostics.ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in (string[])["-qec", command, "/dev/null"]) start.ArgumentList.Add(a);
        start.Environment.Remove("NO_COLOR");
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
