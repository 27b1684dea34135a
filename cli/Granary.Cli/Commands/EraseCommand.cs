using System.CommandLine;
using System.Globalization;
using Granary.Client;
using Granary.Erasure;
using Granary.Grains.Erasure;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary erase --entity &lt;join key&gt;=&lt;value&gt; [--entity ...] [--views a,b] [--server [url]]</c>: erases one entity
/// from the views keyed by it (online store, entity caches, pushed offline rows, feature logs), records tombstones and an
/// audit record, and prints what was removed where, and which sources to erase upstream. Locally on the repository's
/// stores, or through a server (needs ERASE there).
/// </summary>
public sealed class EraseCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var entity = new Option<string[]>("--entity")
        {
            Description = "A join key of the entity and its value, e.g. --entity driver_id=1001; repeat for each join key of a composite key",
            AllowMultipleArgumentsPerToken = false,
            Required = true,
            HelpName = "join key=value",
        };
        var views = new Option<string[]>("--views")
        {
            Description = "Feature views to erase the entity from (default: every view keyed by exactly these join keys)",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "view",
        };
        var server = ServerOption.Create();
        var command = new Command("erase", "Erase an entity's data: online store, entity caches, pushed offline rows and feature logs; old rows never come back") { entity, views, server };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var pairs = (parse.GetValue(entity) ?? []).Select(ErasurePlan.ParsePair).ToList();
            var viewNames = (parse.GetValue(views) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            ErasureResult result;
            if (ServerOption.Url(context, parse, server) is { } url)
            {
                using var client = ServerOption.Connect(url);
                var keys = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (key, value) in pairs)
                    if (!keys.TryAdd(key, value)) throw new ErasureRequestException($"join key '{key}' is given twice", "give each join key of the entity once");
                result = await ServerOption.CallAsync(url, () => client.EraseAsync(keys, viewNames, cancellationToken: cancellationToken));
            }
            else
            {
                await using var store = await context.StartStoreAsync(parse, cancellationToken);
                var caller = new ErasureCaller(LocalPrincipal(), "local", "cli erase", "");
                var report = await store.Grains.GetGrain<IErasureGrain>(store.Config.Project)
                    .EraseAsync(new ErasureRequest([.. pairs.Select(p => p.Key)], [.. pairs.Select(p => p.Value)], [.. viewNames], caller));
                result = new ErasureResult(report.Project, report.KeyHash, report.ErasedAt, report.Views,
                    [.. report.Places.Select(p => new ErasureResultPlace(p.Kind, p.Name, p.Location, p.Rows, p.Views))], report.SilosTold, report.CachedEntities);
            }
            Print(context.Console, result);
            return 0;
        }));
        return command;
    }

    /// <summary>Who runs the CLI on the repository's stores, for the audit log: the operating-system user.</summary>
    private static string LocalPrincipal() => "os:" + Environment.UserName;

    private static void Print(IAnsiConsole console, ErasureResult result)
    {
        console.Line($"Erased an entity of project [bold]{result.Project}[/] from {result.FeatureViews.Count} feature view(s): {string.Join(", ", result.FeatureViews)}");
        console.Line($"Key hash (tombstones and audit log): {result.KeyHash}; rows with event times up to {result.ErasedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)} never come back");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "Place", "Name", "Where", "Rows", "Views" }) table.AddColumn(column);
        foreach (var p in result.Places)
        {
            var rows = p.Kind == "upstream" ? "erase upstream" : p.Rows.ToString(CultureInfo.InvariantCulture);
            table.AddRow(CliConsole.Plain(p.Kind), CliConsole.Plain(p.Name), CliConsole.Plain(p.Location), CliConsole.Plain(rows), CliConsole.Plain(string.Join(", ", p.FeatureViews)));
        }
        table.AddRow(CliConsole.Plain("entity_caches"), CliConsole.Plain(""), CliConsole.Plain($"{result.SilosTold} silo(s)"),
            CliConsole.Plain(result.CachedEntities.ToString(CultureInfo.InvariantCulture)), CliConsole.Plain(string.Join(", ", result.FeatureViews)));
        console.Write(table);
        var upstream = result.Places.Where(p => p.Kind == "upstream").ToList();
        if (upstream.Count > 0)
            console.Line($"[yellow]Granary does not write {string.Join(", ", upstream.Select(u => $"{u.Name} ({u.Location})"))}: erase the entity there; materialization will not bring its old rows back.[/]");
        console.Line($"The erasure is recorded in the audit log (granary audit tail --object <view>).");
    }
}
