using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Granary.Definitions;
using Granary.Grains.Health;
using Granary.FeatureHealth;
using Granary.Hosting;
using Granary.Repository;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary drift --baseline &lt;training set&gt; [--window 24h] [--views a,b] [--json]</c>: compares the feature values the
/// gateway logged in the window with a training set (PSI, Kolmogorov-Smirnov, chi-square, NULL rates); exit code 2 when
/// a feature drifted.
/// </summary>
public sealed class DriftCommand : ICliCommand
{
    /// <summary>Exit code when the check ran and a feature drifted.</summary>
    public const int DriftedExitCode = 2;

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var baseline = new Option<string>("--baseline") { Description = "The training set to compare with (.parquet or .csv, e.g. from get-historical-features)", Required = true, HelpName = "file" };
        var window = new Option<string>("--window") { Description = "How far back served values are read", DefaultValueFactory = _ => "24h", HelpName = "duration" };
        var views = new Option<string[]>("--views") { Description = "Feature views to check (default: every view with logged values)", AllowMultipleArgumentsPerToken = true, HelpName = "view" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (the shape of GET /api/health/drift)" };
        var command = new Command("drift", "Compare the distributions of served feature values (the feature log) with a training set") { baseline, window, views, json };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var windowText = parse.GetValue(window)!;
            if (!DurationText.TryParse(windowText, out var span) || span <= TimeSpan.Zero)
                throw new CliException($"--window '{windowText}' is not a positive duration", $"use {DurationText.Forms}, e.g. 24h");
            // A relative baseline is relative to where the command runs, as every other file argument.
            var request = new DriftRequest { Baseline = Path.GetFullPath(parse.GetValue(baseline)!), Window = span, Views = ParityCommand.Split(parse.GetValue(views)) };
            var root = context.RepositoryRoot(parse);
            if (!File.Exists(Path.Combine(root, RepositoryConfig.FileName)))
                throw new CliException($"no {RepositoryConfig.FileName} in '{root}'; run 'granary init <dir>' to create a repository, or pass --repo <dir>");
            var logLevel = parse.GetValue(context.VerboseOption) ? LogLevel.Information : LogLevel.None;
            // Every silo (AddGranaryStores) reads Parquet and CSV baselines with DuckDB.
            await using var store = await EmbeddedFeatureStore.StartAsync(root, minimumLogLevel: logLevel, cancellationToken: cancellationToken);
            var report = await store.Grains.GetGrain<IFeatureHealthGrain>(store.Config.Project).RunDriftAsync(request);
            if (parse.GetValue(json)) WriteJson(context.Console, report);
            else WriteTable(context.Console, report);
            return report.Drifted ? DriftedExitCode : 0;
        }));
        return command;
    }

    private static void WriteJson(IAnsiConsole console, DriftReport report)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            HealthJson.Write(writer, report);
        console.Write(new Text(System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine));
    }

    private static void WriteTable(IAnsiConsole console, DriftReport report)
    {
        if (report.Views.Count == 0)
        {
            console.Line($"no logged feature values in the window match the baseline's features (is feature_logging.sample_rate set?)");
            return;
        }
        var table = new Table().AddColumns("feature view", "feature", "kind", "served", "psi", "ks D", "ks p", "chi-square p", "null diff", "drifted");
        foreach (var view in report.Views)
            foreach (var f in view.Features)
            {
                table.AddRow(new Text(view.FeatureView), new Text(f.Feature), new Text(f.Kind == DriftKind.Numeric ? "numeric" : "categorical"),
                    new Text(f.ServedValues.ToString(CultureInfo.InvariantCulture)), new Text(N(f.Psi)), new Text(N(f.Ks)), new Text(N(f.KsP)), new Text(N(f.ChiSquareP)),
                    new Text(N(f.NullRateDifference)), f.Drifted ? CliConsole.Styled($"[red]yes: {string.Join("; ", f.Reasons)}[/]") : CliConsole.Styled($"[green]no[/]"));
            }
        console.Write(table);
    }

    private static string N(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : "-";
}
