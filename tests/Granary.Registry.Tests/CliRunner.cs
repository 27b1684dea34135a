using Granary.Cli;
using Spectre.Console;

namespace Granary.Registry.Tests;

/// <summary>Runs the granary CLI in-process with a recording console, returning exit code and plain-text output.</summary>
internal static class CliRunner
{
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] args) => RunAsync(220, args);

    /// <summary>Runs with a console <paramref name="width"/> columns wide (80 is what a redirected process gets by default).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(int width, params string[] args)
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
        var code = await GranaryCli.RunAsync(args, console);
        return (code, writer.ToString());
    }
}
