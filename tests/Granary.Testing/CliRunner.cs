using Granary.Cli;
using Spectre.Console;

namespace Granary.Testing;

/// <summary>Runs the granary CLI in-process with a recording console, answering the exit code and the plain-text output.</summary>
public static class CliRunner
{
    /// <summary>Runs with a console 250 columns wide, so tables do not wrap.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] args) => RunAsync(250, args);

    /// <summary>Creates an API key with <c>granary auth create-key</c>, as an operator does, and returns the key it printed.</summary>
    public static async Task<string> CreateApiKeyAsync(string repositoryRoot, string principal, string roles)
    {
        var (code, output) = await RunAsync("--repo", repositoryRoot, "auth", "create-key", "--principal", principal, "--roles", roles);
        if (code != 0) throw new InvalidOperationException($"granary auth create-key exited with {code}: {output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
    }

    /// <summary>Runs with a console <paramref name="width"/> columns wide (80 is what a redirected process gets by default).</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(int width, params string[] args) => RunAsync(width, args, CancellationToken.None);

    /// <summary>Runs until the command ends or <paramref name="cancellationToken"/> stops it (as Ctrl+C does, e.g. <c>granary serve</c>).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(int width, string[] args, CancellationToken cancellationToken)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = width;
        var code = await GranaryCli.RunAsync(args, console, cancellationToken);
        return (code, writer.ToString());
    }
}
