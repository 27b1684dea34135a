using Spectre.Console;
using System.CommandLine;
using Granary.Registry;

namespace Granary.Cli.Commands;

/// <summary><c>granary apply [--force]</c>: validates, plans, and registers the repository as a new registry version.</summary>
public sealed class ApplyCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var force = new Option<bool>("--force") { Description = "Apply even if it breaks a feature service (removes a feature it uses or changes its type)" };
        var command = new Command("apply", "Validate the repository and register it as a new registry version (refused if another apply won meanwhile, or if it breaks a feature service without --force)")
        {
            force,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var definitions = await RepositoryWorkflow.LoadValidatedAsync(registry, cancellationToken);
            var plan = await registry.Service.PlanAsync(registry.Project, definitions, cancellationToken);
            DiffRenderer.Write(context.Console, plan.Diff);
            // Applying against the planned version: if anyone applied in between, this fails instead of overwriting them.
            var result = await registry.Service.ApplyAsync(registry.Project, new ApplyRequest(definitions, plan.BaseVersion, parse.GetValue(force)), cancellationToken);
            if (result.Created)
                context.Console.Line($"Applied: project [green]{plan.Project}[/] is now at registry version [green]{result.Version}[/].");
            else
                context.Console.Line($"Nothing to apply: project [green]{plan.Project}[/] stays at registry version {result.Version}.");
            return 0;
        }));
        return command;
    }
}
