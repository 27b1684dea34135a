using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Granary.Grains.Health;
using Granary.FeatureHealth;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary parity [--views a,b] [--sample N] [--seed S] [--min-rate R] [--json]</c>: compares online values with the
/// offline point-in-time result at now for a sample of entities; exit code 2 when a view's parity rate is below --min-rate.
/// </summary>
public sealed class ParityCommand : ICliCommand
{
    /// <summary>Exit code when the check ran and a view is below the minimum rate.</summary>
    public const int BelowMinimumExitCode = 2;

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var views = new Option<string[]>("--views") { Description = "Feature views to check (default: every view with online: true)", AllowMultipleArgumentsPerToken = true, HelpName = "view" };
        var sample = new Option<int>("--sample") { Description = "Entities sampled per view, among those with offline rows", DefaultValueFactory = _ => ParityRequest.DefaultSample, HelpName = "n" };
        var seed = new Option<int>("--seed") { Description = "Sampling seed (the same seed picks the same entities)", DefaultValueFactory = _ => ParityRequest.DefaultSeed, HelpName = "n" };
        var minRate = new Option<double>("--min-rate") { Description = "Exit with code 2 when a view's parity rate is below this (0..1)", DefaultValueFactory = _ => 0.995, HelpName = "rate" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (the shape of GET /api/health/parity)" };
        var command = new Command("parity", "Compare online feature values with the offline point-in-time values at now, for a sample of entities") { views, sample, seed, minRate, json };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var rate = parse.GetValue(minRate);
            if (rate is < 0 or > 1 || double.IsNaN(rate)) throw new CliException($"--min-rate {rate.ToString(CultureInfo.InvariantCulture)} is not between 0 and 1", "pass e.g. --min-rate 0.995");
            var request = new ParityRequest { Views = Split(parse.GetValue(views)), Sample = parse.GetValue(sample), Seed = parse.GetValue(seed) };
            if (request.Sample < 1) throw new CliException($"--sample {request.Sample} is below 1", "pass --sample 1 or more (default 100)");
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            var report = await store.Grains.GetGrain<IFeatureHealthGrain>(store.Config.Project).RunParityAsync(request);
            if (parse.GetValue(json)) WriteJson(context.Console, report);
            else WriteTables(context.Console, report, rate);
            return report.Views.Any(v => v.ParityRate < rate) ? BelowMinimumExitCode : 0;
        }));
        return command;
    }

    internal static IReadOnlyList<string> Split(string[]? values)
        => (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static void WriteJson(IAnsiConsole console, ParityReport report)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            HealthJson.Write(writer, report);
        console.Write(new Text(System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine));
    }

    private static void WriteTables(IAnsiConsole console, ParityReport report, double minRate)
    {
        if (report.Views.Count == 0)
        {
            console.Line($"no online feature views to check");
            return;
        }
        var table = new Table().AddColumns("feature view", "entities", "compared", "matching", "parity rate");
        foreach (var view in report.Views)
        {
            var text = (view.ParityRate * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
            table.AddRow(new Text(view.FeatureView), new Text(view.Entities.ToString(CultureInfo.InvariantCulture)),
                new Text(view.Compared.ToString(CultureInfo.InvariantCulture)), new Text(view.Matching.ToString(CultureInfo.InvariantCulture)),
                view.ParityRate < minRate ? CliConsole.Styled($"[red]{text}[/]") : CliConsole.Styled($"[green]{text}[/]"));
        }
        console.Write(table);
        var mismatches = report.Views.SelectMany(v => v.Mismatches.Select(m => (View: v.FeatureView, Mismatch: m))).ToList();
        if (mismatches.Count == 0) return;
        const int shown = 20;
        var details = new Table().AddColumns("feature view", "entity", "feature", "offline", "online", "reason");
        foreach (var (view, m) in mismatches.Take(shown))
        {
            details.AddRow(new Text(view), new Text(string.Join(", ", m.Entity.Select(e => $"{e.Key}={e.Value}"))), new Text(m.Feature),
                new Text(m.Offline ?? "null"), new Text($"{m.Online ?? "null"} ({m.OnlineStatus})"), new Text(m.Reason));
        }
        console.Write(details);
        if (mismatches.Count > shown) console.Line($"... and {mismatches.Count - shown} more mismatches (--json lists them all)");
    }
}
