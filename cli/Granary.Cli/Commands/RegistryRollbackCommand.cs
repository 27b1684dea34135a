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
        var command = new Command("rollback", "Create a new registry version whose definitions (and transforms) equal an earlier version's") { version };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var store = await context.StartStoreAsync(context.RepositoryRoot(parse), cancellationToken);
            var registry = CliContext.Registry(store);
            var current = await registry.GetSnapshotAsync();
            var target = parse.GetValue(version);
            var result = await registry.RollbackAsync(target, current.Version);
            DiffRenderer.Write(context.Console, result.Diff);
            context.Console.MarkupLineInterpolated($"Rolled back: project [green]{store.Config.Project}[/] is now at registry version [green]{result.Version}[/], equal to version {target}.");
            return 0;
        }));
        return command;
    }
}
