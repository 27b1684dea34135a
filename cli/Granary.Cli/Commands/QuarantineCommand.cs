using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Granary.Grains.Quality;
using Granary.Quality;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary quarantine list|show|release|drop</c>: rows set aside by quarantine data rules, in the repository's registry
/// database. <c>release</c> writes a row through the normal write path (on the embedded silo), past the rule that held it.
/// </summary>
public sealed class QuarantineCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var command = new Command("quarantine", "Inspect rows set aside by data rules: list them, show one, release one (write it past its rule), drop one");
        command.Subcommands.Add(List(context));
        command.Subcommands.Add(Show(context));
        command.Subcommands.Add(Release(context));
        command.Subcommands.Add(Drop(context));
        return command;
    }

    private static Command List(CliContext context)
    {
        var view = new Option<string?>("--feature-view") { Description = "Only this feature view's entries", HelpName = "name" };
        var limit = new Option<int>("--limit") { Description = "Entries shown at most (oldest first)", DefaultValueFactory = _ => 50, HelpName = "n" };
        var command = new Command("list", "Count the quarantined rows per feature view and rule, and list the oldest") { view, limit };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var n = parse.GetValue(limit);
            if (n is < 1 or > 10_000) throw new CliException($"--limit {n} is not from 1 to 10000", "give e.g. --limit 100");
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var name = parse.GetValue(view);
            var counts = (await registry.Quarantine.CountQuarantinedAsync(registry.Project, cancellationToken)).Where(c => name is null || c.FeatureView == name).ToList();
            if (counts.Count == 0)
            {
                if (name is null) context.Console.Line($"The quarantine of project {registry.Project} is empty.");
                else context.Console.Line($"The quarantine holds no row of feature view {name}.");
                return 0;
            }
            var summary = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "Feature view", "Rule", "Rows" }) summary.AddColumn(column);
            foreach (var (featureView, rule, count) in counts)
                summary.AddRow(CliConsole.Plain(featureView), CliConsole.Plain(rule), CliConsole.Plain(count.ToString("N0", CultureInfo.InvariantCulture)));
            context.Console.Write(summary);
            var rows = await registry.Quarantine.ListQuarantinedAsync(registry.Project, name, n, cancellationToken);
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "Id", "Feature view", "Rule", "Source", "Quarantined (UTC)" }) table.AddColumn(column);
            foreach (var row in rows)
                table.AddRow(CliConsole.Plain(row.Id.ToString(CultureInfo.InvariantCulture)), CliConsole.Plain(row.FeatureView), CliConsole.Plain(row.Rule),
                    CliConsole.Plain(row.Source), CliConsole.Plain(Time(row.QuarantinedAt)));
            context.Console.Write(table);
            context.Console.Line($"Show a row with 'granary quarantine show <id>'; release or drop it with 'granary quarantine release|drop <id>'.");
            return 0;
        }));
        return command;
    }

    private static Command Show(CliContext context)
    {
        var id = IdArgument();
        var command = new Command("show", "Show one quarantined row: its view, rule, source, time and values") { id };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var row = await EntryAsync(registry, parse.GetValue(id), cancellationToken);
            context.Console.Line($"Quarantine entry [green]{row.Id}[/]: feature view {row.FeatureView}, rule {row.Rule}, from {row.Source}, at {Time(row.QuarantinedAt)} UTC");
            using var json = JsonDocument.Parse(row.Row);
            context.Console.Raw(JsonSerializer.Serialize(json.RootElement, new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine);
            return 0;
        }));
        return command;
    }

    private static Command Release(CliContext context)
    {
        var id = IdArgument();
        var command = new Command("release", "Write a quarantined row through the normal write path, past the rule that held it, and remove it from the quarantine") { id };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var entry = parse.GetValue(id);
            await using (var registry = await context.OpenRegistryAsync(parse, cancellationToken))
                await EntryAsync(registry, entry, cancellationToken);
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            var released = await store.Grains.GetGrain<IQuarantineGrain>(store.Config.Project).ReleaseAsync(entry);
            var again = released.QuarantinedAgain ? "; another quarantine rule held it again (see granary quarantine list)" : "";
            context.Console.Line($"Released quarantine entry [green]{released.Id}[/] of {released.FeatureView} (rule {released.Rule}): online rows applied {released.OnlineRowsApplied}, offline rows appended {released.OfflineRowsAppended}{again}");
            return 0;
        }));
        return command;
    }

    private static Command Drop(CliContext context)
    {
        var id = IdArgument();
        var command = new Command("drop", "Delete a quarantined row for good") { id };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var row = await EntryAsync(registry, parse.GetValue(id), cancellationToken);
            await registry.Quarantine.DeleteQuarantinedAsync(registry.Project, row.Id, cancellationToken);
            context.Console.Line($"Dropped quarantine entry [green]{row.Id}[/] of {row.FeatureView} (rule {row.Rule}).");
            return 0;
        }));
        return command;
    }

    private static Argument<long> IdArgument() => new("id") { Description = "The entry's id (granary quarantine list)" };

    private static async Task<QuarantinedRow> EntryAsync(LocalRegistry registry, long id, CancellationToken cancellationToken)
        => await registry.Quarantine.GetQuarantinedAsync(registry.Project, id, cancellationToken)
           ?? throw new CliException($"project '{registry.Project}' has no quarantine entry {id}", "list the entries with 'granary quarantine list'");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
