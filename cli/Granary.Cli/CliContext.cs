using System.CommandLine;
using Granary.Grains.Registry;
using Granary.Hosting;
using Granary.Repository;
using Granary.Transforms;
using Spectre.Console;

namespace Granary.Cli;

/// <summary>A problem the user must fix; printed without a stack trace, exit code 1.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>What every command shares: the global options, the console, and running with clean error reporting.</summary>
public sealed class CliContext(IAnsiConsole console)
{
    /// <summary><c>--repo &lt;dir&gt;</c>: the feature repository; default the current folder. Valid on every command.</summary>
    public Option<string> RepoOption { get; } = new("--repo")
    {
        Description = "The feature repository folder (holding granary.yaml)",
        DefaultValueFactory = _ => ".",
        Recursive = true,
        HelpName = "dir",
    };

    /// <summary>Where output goes.</summary>
    public IAnsiConsole Console { get; } = console;

    /// <summary>The repository folder chosen by <c>--repo</c>, as an absolute path.</summary>
    public string RepositoryRoot(ParseResult parse) => Path.GetFullPath(parse.GetValue(RepoOption) ?? ".");

    /// <summary>Runs a command body, turning the errors users can act on into a red message and exit code 1.</summary>
    public async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (RepositoryValidationException e)
        {
            Console.MarkupLine(e.Errors.Count == 1 ? "[red]error:[/]" : $"[red]error:[/] {e.Errors.Count} problems in the feature repository");
            foreach (var error in e.Errors) Console.MarkupLineInterpolated($"  [red]{error}[/]");
            return 1;
        }
        catch (Exception e) when (e is CliException or RegistryConflictException or BreakingChangeException or RegistryValidationException
                                      or RegistryNotFoundException or TransformCompilationException)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.MarkupLine("[yellow]cancelled[/]");
            return 130;
        }
        catch (Exception e)
        {
            Console.MarkupLineInterpolated($"[red]error:[/] {e.Message} ({e.GetType().Name})");
            return 1;
        }
    }

    /// <summary>Starts the embedded silo for the repository at <paramref name="root"/>; fails with a hint when there is none.</summary>
    public async Task<EmbeddedFeatureStore> StartStoreAsync(string root, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(root, RepositoryConfig.FileName)))
            throw new CliException($"no {RepositoryConfig.FileName} in '{root}'; run 'granary init <dir>' to create a repository, or pass --repo <dir>");
        return await EmbeddedFeatureStore.StartAsync(root, cancellationToken: cancellationToken);
    }

    /// <summary>The registry grain of the store's project.</summary>
    public static IRegistryGrain Registry(EmbeddedFeatureStore store) => store.Grains.GetGrain<IRegistryGrain>(store.Config.Project);
}
