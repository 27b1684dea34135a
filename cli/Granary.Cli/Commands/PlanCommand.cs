using Spectre.Console;
using System.CommandLine;

namespace Granary.Cli.Commands;

/// <summary><c>granary plan</c>: validates the repository and shows what apply would change.</summary>
public sealed class PlanCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var command = new Command("plan", "Validate the repository (definitions, transforms, source columns) and show what apply would add, change and remove");
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var definitions = await RepositoryWorkflow.LoadValidatedAsync(registry, cancellationToken);
            var plan = await registry.Service.PlanAsync(registry.Project, definitions, cancellationToken);
            context.Console.Line($"Project [green]{plan.Project}[/], registry version {plan.BaseVersion}:");
            DiffRenderer.Write(context.Console, plan.Diff);
            return 0;
        }));
        return command;
    }
}
