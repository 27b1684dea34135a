using System.CommandLine;

namespace Granary.Cli.Commands;

/// <summary><c>granary registry ...</c>: inspect and roll back the registry. Subcommands are listed here, one file each.</summary>
public sealed class RegistryCommand : ICliCommand
{
    /// <summary>The subcommands, in help order.</summary>
    public static IReadOnlyList<ICliCommand> Subcommands { get; } =
    [
        new RegistryListCommand(),
        new RegistryHistoryCommand(),
        new RegistryRollbackCommand(),
        new RegistryShowCommand(),
    ];

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var command = new Command("registry", "Inspect the registry: list objects, show one, history of versions, roll back");
        foreach (var sub in Subcommands) command.Subcommands.Add(sub.Build(context));
        return command;
    }

    /// <summary><c>--version N</c>: which registry version to read (default: the current one).</summary>
    public static Option<long?> VersionOption() => new("--version") { Description = "The registry version to read (default: the current one)", HelpName = "n" };
}
