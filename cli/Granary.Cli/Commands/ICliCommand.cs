using System.CommandLine;

namespace Granary.Cli.Commands;

/// <summary>One top-level <c>granary</c> command. Add a class implementing this and list it in <see cref="CommandCatalog"/>.</summary>
public interface ICliCommand
{
    /// <summary>Builds the command with its arguments, options and action.</summary>
    Command Build(CliContext context);
}

/// <summary>Every top-level command, in help order: the one list to extend.</summary>
public static class CommandCatalog
{
    /// <summary>The commands.</summary>
    public static IReadOnlyList<ICliCommand> All { get; } =
    [
        new InitCommand(),
        new PlanCommand(),
        new ApplyCommand(),
        new RegistryCommand(),
        new GetHistoricalFeaturesCommand(),
        new MaterializeCommand(),
        new MaterializeIncrementalCommand(),
        new GetOnlineFeaturesCommand(),
        new PushCommand(),
        new EraseCommand(),
        new IngestCommand(),
        new ParityCommand(),
        new DriftCommand(),
        new QuarantineCommand(),
        new ServeCommand(),
        new AuditCommand(),
        new AuthCommand(),
    ];
}
