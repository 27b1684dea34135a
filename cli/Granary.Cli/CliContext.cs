using System.CommandLine;
using Granary.Hosting;
using Granary.Repository;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Granary.Cli;

/// <summary>A problem the user must fix; printed without a stack trace, exit code 1.</summary>
public sealed class CliException(string message, string? hint = null) : GranaryException(message, hint);

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

    /// <summary><c>--verbose</c>: also print the log lines of Orleans and the stores (to stderr). Valid on every command.</summary>
    public Option<bool> VerboseOption { get; } = new("--verbose")
    {
        Description = "Also print the runtime's log lines (Orleans, stores) on stderr",
        Recursive = true,
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
            if (e.Errors.Count == 1) Console.Line($"[red]error:[/]");
            else Console.Line($"[red]error:[/] {e.Errors.Count} problems in the feature repository");
            foreach (var error in e.Errors) Console.Line($"  [red]{error}[/]");
            return 1;
        }
        catch (GranaryException e)
        {
            Console.Error(e.Message);
            if (e.Hint is { } hint && !e.Message.Contains(hint, StringComparison.Ordinal)) Console.Line($"  hint: {hint}");
            return 1;
        }
        catch (OptionsValidationException e)
        {
            // granary.yaml names a store without what it needs (e.g. a connection string); the validator says which key.
            foreach (var failure in e.Failures) Console.Error(failure);
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Line($"[yellow]cancelled[/]");
            return 130;
        }
        catch (Exception e)
        {
            Console.Error($"{e.Message} ({e.GetType().Name})");
            return 1;
        }
    }

    /// <summary>Starts the embedded silo for the repository at <paramref name="root"/>; fails with a hint when there is none.</summary>
    /// <remarks>Only for commands that need grains: a silo costs about a second to start. Its log lines stay off the console unless --verbose.</remarks>
    public async Task<EmbeddedFeatureStore> StartStoreAsync(ParseResult parse, CancellationToken cancellationToken, Action<ISiloBuilder>? configure = null)
    {
        var root = RepositoryRoot(parse);
        RequireRepository(root);
        var logLevel = parse.GetValue(VerboseOption) ? LogLevel.Information : LogLevel.None;
        return await EmbeddedFeatureStore.StartAsync(root, configure, logLevel, cancellationToken);
    }

    /// <summary>Opens the registry of the repository chosen by <c>--repo</c> over its stores, without a silo.</summary>
    public async Task<LocalRegistry> OpenRegistryAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var root = RepositoryRoot(parse);
        RequireRepository(root);
        return await LocalRegistry.OpenAsync(root, cancellationToken);
    }

    private static void RequireRepository(string root)
    {
        if (!File.Exists(Path.Combine(root, RepositoryConfig.FileName)))
            throw new CliException($"no {RepositoryConfig.FileName} in '{root}'; run 'granary init <dir>' to create a repository, or pass --repo <dir>");
    }
}
