using Granary.Cli;
using Spectre.Console;

namespace Granary.Registry.Tests;

/// <summary>Runs the granary CLI in-process with a recording console, returning exit code and plain-text output.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 220;
        var code = await GranaryCli.RunAsync(args, console);
        return (code, writer.ToString());
    }
}
