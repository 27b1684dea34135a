using System.CommandLine;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary><c>granary registry history</c>: every registry version of the project.</summary>
public sealed class RegistryHistoryCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var command = new Command("history", "List every registry version of the project: number, time and what created it");
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var history = await registry.Service.GetHistoryAsync(registry.Project, cancellationToken);
            if (history.Count == 0)
            {
                context.Console.Line($"Project [green]{registry.Project}[/] has no registry version yet; run 'granary apply'.");
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Version");
            table.AddColumn("Created (UTC)");
            table.AddColumn("Summary");
            foreach (var entry in history)
            {
                var current = entry.Version == history[^1].Version ? " (current)" : "";
                table.AddRow(CliConsole.Plain($"{entry.Version}{current}"), CliConsole.Plain(entry.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)), CliConsole.Plain(entry.Summary));
            }
            context.Console.Write(table);
            return 0;
        }));
        return command;
    }
}
