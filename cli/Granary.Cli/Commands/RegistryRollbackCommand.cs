using Spectre.Console;
using System.CommandLine;

namespace Granary.Cli.Commands;

/// <summary><c>granary registry rollback &lt;version&gt;</c>: a new version equal to an earlier one.</summary>
public sealed class RegistryRollbackCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var version = new Argument<long>("version") { Description = "The earlier version whose definitions become current (see 'granary registry history')" };
        var force = new Option<bool>("--force") { Description = "Roll back even if it breaks a feature service (removes a feature it uses or changes its type)" };
        var command = new Command("rollback", "Create a new registry version whose definitions (and transforms) equal an earlier version's (refused if it breaks a feature service without --force)")
        {
            version,
            force,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var current = await registry.Service.GetLatestAsync(registry.Project, cancellationToken);
            var target = parse.GetValue(version);
            var result = await registry.Service.RollbackAsync(registry.Project, target, current.Version, parse.GetValue(force), cancellationToken);
            DiffRenderer.Write(context.Console, result.Diff);
            context.Console.Line($"Rolled back: project [green]{registry.Project}[/] is now at registry version [green]{result.Version}[/], equal to version {target}.");
            return 0;
        }));
        return command;
    }
}
