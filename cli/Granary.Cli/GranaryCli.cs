using System.CommandLine;
using Granary.Cli.Commands;
using Spectre.Console;

namespace Granary.Cli;

/// <summary>Builds and runs the <c>granary</c> command line.</summary>
public static class GranaryCli
{
    /// <summary>Parses <paramref name="args"/>, runs the command, and returns the process exit code (0 success, 1 error).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="console">Where command output goes (tests pass a recording console).</param>
    /// <param name="cancellationToken">Cancels the command (Ctrl+C).</param>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(console);
        var root = new RootCommand("Granary feature store: define features in a repository, apply them to the registry, serve them online and offline.");
        root.Options.Add(context.RepoOption);
        root.Options.Add(context.VerboseOption);
        foreach (var command in CommandCatalog.All) root.Subcommands.Add(command.Build(context));
        var writer = new ConsoleTextWriter(console);
        var parse = root.Parse(args);
        return await parse.InvokeAsync(new InvocationConfiguration { Output = writer, Error = writer }, cancellationToken);
    }

    // Help and parse errors from System.CommandLine go to the same console as command output.
    private sealed class ConsoleTextWriter(IAnsiConsole console) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => console.Write(new Text(value.ToString()));
        public override void Write(string? value)
        {
            if (!string.IsNullOrEmpty(value)) console.Write(new Text(value));
        }
        public override void WriteLine(string? value) => console.Write(new Text((value ?? "") + Environment.NewLine));
        public override void WriteLine() => console.Write(new Text(Environment.NewLine));
    }
}
