using System.CommandLine;
using System.Diagnostics;
using Granary.Grains.Historical;
using Granary.Offline;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary get-historical-features</c>: point-in-time correct training data. Starts a historical query job in the
/// embedded silo, shows its progress, and reports the rows written.
/// </summary>
public sealed class GetHistoricalFeaturesCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var entities = new Option<string>("--entities") { Description = "Entity dataframe: a .parquet or .csv file with join-key columns and an event_timestamp column", Required = true, HelpName = "file" };
        var features = new Option<string?>("--features") { Description = "Comma-separated feature references, e.g. driver_stats:conv_rate,driver_stats:acc_rate", HelpName = "view:feature,..." };
        var service = new Option<string?>("--service") { Description = "A feature service name (instead of --features)", HelpName = "name" };
        var output = new Option<string>("--out") { Description = "Output file: .parquet or .csv", Required = true, HelpName = "file" };
        var fullNames = new Option<bool>("--full-feature-names") { Description = "Name output columns view__feature" };
        var command = new Command("get-historical-features", "Join features to an entity dataframe as of each row's timestamp (point-in-time correct) and write the training data to a file")
        {
            entities, features, service, output, fullNames,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var request = BuildRequest(parse.GetValue(entities)!, parse.GetValue(features), parse.GetValue(service), parse.GetValue(output)!, parse.GetValue(fullNames));
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            var job = store.Grains.GetGrain<IHistoricalQueryGrain>($"cli-{Guid.NewGuid():N}");
            var clock = Stopwatch.StartNew();
            HistoricalJobStatus status;
            try
            {
                status = await job.Start(request with { Project = store.Config.Project });
            }
            catch (HistoricalRetrievalException e)
            {
                throw new CliException(e.Message);
            }
            status = await FollowAsync(context.Console, job, status, cancellationToken);
            switch (status.State)
            {
                case HistoricalJobState.Succeeded:
                    context.Console.Line($"Wrote [green]{status.OutputRows:N0}[/] rows ({status.EntityRows:N0} entity rows) to [green]{status.OutputPath}[/] in {clock.Elapsed.TotalSeconds:F1} s");
                    context.Console.Line($"Columns: {string.Join(", ", status.Columns)}");
                    return 0;
                case HistoricalJobState.Cancelled:
                    throw new OperationCanceledException();
                default:
                    throw new CliException(status.Error ?? "the historical query failed");
            }
        }));
        return command;
    }

    private static HistoricalJobRequest BuildRequest(string entities, string? features, string? service, string output, bool fullNames)
    {
        var entitiesPath = Path.GetFullPath(entities);
        if (!File.Exists(entitiesPath)) throw new CliException($"entity dataframe '{entitiesPath}' does not exist");
        var extension = Path.GetExtension(entitiesPath).ToLowerInvariant();
        if (extension is not (".parquet" or ".csv")) throw new CliException($"entity dataframe '{entitiesPath}' must be a .parquet or .csv file");
        var outExtension = Path.GetExtension(output).ToLowerInvariant();
        if (outExtension is not (".parquet" or ".csv")) throw new CliException($"--out '{output}' must end in .parquet or .csv");
        var references = (features ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (references.Length == 0 == string.IsNullOrWhiteSpace(service))
            throw new CliException("pass exactly one of --features view:feature,... or --service <name>");
        foreach (var reference in references)
        {
            try { Definitions.FeatureReference.Parse(reference); }
            catch (FormatException e) { throw new CliException(e.Message); }
        }
        return new HistoricalJobRequest
        {
            EntitiesPath = entitiesPath,
            Features = references,
            FeatureService = string.IsNullOrWhiteSpace(service) ? null : service,
            FullFeatureNames = fullNames,
            OutputPath = Path.GetFullPath(output),
        };
    }

    /// <summary>Polls the job until it ends, drawing a progress bar; Ctrl+C cancels the job.</summary>
    private static async Task<HistoricalJobStatus> FollowAsync(IAnsiConsole console, IHistoricalQueryGrain job, HistoricalJobStatus status, CancellationToken cancellationToken)
    {
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask("starting", maxValue: 100);
                while (!status.IsFinished)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        status = await job.Cancel();
                        break;
                    }
                    try
                    {
                        await Task.Delay(200, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        continue;
                    }
                    status = await job.GetStatus();
                    // A task's description is markup; the phase text is data.
                    bar.Description = status.EntityRows > 0 ? CliConsole.Escaped($"{status.Phase} ({status.EntityRows:N0} entity rows)") : CliConsole.Escaped($"{status.Phase}");
                    bar.Value = Math.Clamp(status.Percent, 0, 100);
                }
                if (status.State == HistoricalJobState.Succeeded)
                {
                    bar.Description = "done";
                    bar.Value = 100;
                }
                bar.StopTask();
            });
        return status;
    }
}
