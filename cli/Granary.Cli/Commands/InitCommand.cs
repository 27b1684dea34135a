using Spectre.Console;
using System.CommandLine;
using Granary.Repository;

namespace Granary.Cli.Commands;

/// <summary><c>granary init &lt;dir&gt;</c>: creates a sample repository that works at once.</summary>
public sealed class InitCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var directory = new Argument<string>("dir") { Description = "The folder to create the repository in (created when missing; must not hold a granary.yaml)" };
        var project = new Option<string?>("--project") { Description = "The project name (default: the folder's name)" };
        var command = new Command("init", "Create a sample feature repository: entities, sources, feature views with 90 days of generated Parquet data, an on-demand view with a C# transform, and a feature service")
        {
            directory,
            project,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(() =>
        {
            var root = Path.GetFullPath(parse.GetValue(directory)!);
            if (File.Exists(Path.Combine(root, RepositoryConfig.FileName)))
                throw new CliException($"'{root}' already holds a {RepositoryConfig.FileName}; choose another folder");
            var name = parse.GetValue(project) ?? ProjectNameFrom(root);
            if (!FeatureRepositoryLoader.IsValidName(name))
                throw new CliException($"project name '{name}' must be letters, digits, '_' or '-', starting with a letter; pass --project <name>");
            SampleRepository.WriteDefinitions(root, name);
            var (driverRows, customerRows) = SampleData.Write(root, DateTimeOffset.UtcNow);
            context.Console.Line($"Created feature repository [green]{name}[/] in {root}");
            context.Console.Line($"  data/driver_stats.parquet      {driverRows} rows (hourly, {SampleData.Days} days)");
            context.Console.Line($"  data/customer_profile.parquet  {customerRows} rows (daily, {SampleData.Days} days)");
            var display = Path.GetRelativePath(Environment.CurrentDirectory, root);
            context.Console.Line($"Next: granary --repo {display} apply");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static string ProjectNameFrom(string root)
    {
        var name = new string(Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar)).Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray());
        return name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_') ? "p_" + name : name;
    }
}
