using System.CommandLine;
using Granary.Definitions;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary><c>granary registry list</c>: every object of a registry version.</summary>
public sealed class RegistryListCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var version = RegistryCommand.VersionOption();
        var command = new Command("list", "List the entities, data sources, feature views, on-demand feature views and feature services of a registry version") { version };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var snapshot = await registry.ReadAsync(parse.GetValue(version), cancellationToken);
            if (snapshot.Version == 0)
            {
                context.Console.Line($"Project [green]{registry.Project}[/] has no registry version yet; run 'granary apply'.");
                return 0;
            }
            context.Console.Line($"Project [green]{snapshot.Project}[/], registry version {snapshot.Version} ({snapshot.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC)");
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Kind");
            table.AddColumn("Name");
            table.AddColumn("Details");
            foreach (var e in snapshot.Entities) AddPlainRow(table, "entity", e.Name, $"join key {e.JoinKey} ({e.ValueType})");
            foreach (var s in snapshot.DataSources) AddPlainRow(table, "data source", s.Name, Describe(s));
            foreach (var f in snapshot.FeatureViews)
                AddPlainRow(table, "feature view", f.Name, $"entities [{string.Join(", ", f.Entities)}], source {f.Source}, ttl {(f.Ttl is { } t ? DurationText.Format(t) : "none")}, {f.Features.Count} features{(f.Online ? ", online" : "")}");
            foreach (var o in snapshot.OnDemandFeatureViews)
                AddPlainRow(table, "on-demand feature view", o.Name, $"sources [{string.Join(", ", o.Sources)}], transform {o.Transform}, {o.Features.Count} features");
            foreach (var s in snapshot.FeatureServices)
                AddPlainRow(table, "feature service", s.Name, string.Join(", ", s.Projections.Select(p => p.Features.Count == 0 ? p.NameToUse : $"{p.NameToUse}[{string.Join(", ", p.Features)}]")));
            foreach (var file in snapshot.TransformSources.Keys) AddPlainRow(table, "transform source", file, $"{snapshot.TransformSources[file].Split('\n').Length} lines");
            context.Console.Write(table);
            return 0;
        }));
        return command;
    }

    private static string Describe(DataSource s) => s switch
    {
        FileSource f => $"file {f.Path}, timestamp {f.TimestampField}",
        PostgresSource { Table: { } t } => $"postgres table {t}, timestamp {s.TimestampField}",
        PostgresSource => $"postgres query, timestamp {s.TimestampField}",
        PushSource p => $"push, batch source {p.BatchSource}",
        RequestSource r => $"request [{string.Join(", ", r.Schema.Select(x => $"{x.Name}: {x.Type}"))}]",
        _ => s.GetType().Name,
    };

    // Cells hold user text (names, [lists]): plain text, never markup.
    private static void AddPlainRow(Table table, params string[] cells) => table.AddRow(cells.Select(CliConsole.Plain).ToArray());
}
