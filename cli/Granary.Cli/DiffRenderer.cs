using Granary.Definitions;
using Spectre.Console;

namespace Granary.Cli;

/// <summary>Prints a registry diff as a table: added (+), changed (~, with each changed field) and removed (-) objects.</summary>
public static class DiffRenderer
{
    /// <summary>Writes <paramref name="diff"/>, then its breaking changes.</summary>
    public static void Write(IAnsiConsole console, RegistryDiff diff)
    {
        if (diff.IsEmpty)
        {
            console.Line($"No changes.");
            return;
        }
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("");
        table.AddColumn("Kind");
        table.AddColumn("Name");
        table.AddColumn("Changed fields");
        foreach (var change in diff.Changes)
        {
            var (mark, colour) = change.Change switch
            {
                ChangeKind.Added => ("+", "green"),
                ChangeKind.Removed => ("-", "red"),
                _ => ("~", "yellow"),
            };
            var fields = string.Join(Environment.NewLine, change.Fields.Select(f => $"{f.Field}: {f.Before ?? "(none)"} -> {f.After ?? "(none)"}"));
            table.AddRow(
                CliConsole.Styled($"[{colour}]{mark}[/]"),
                CliConsole.Plain(KindName(change.Kind)),
                CliConsole.Styled($"[{colour}]{change.Name}[/]"),
                CliConsole.Plain(fields));
        }
        console.Write(table);
        int Count(ChangeKind k) => diff.Changes.Count(c => c.Change == k);
        console.Line($"{Count(ChangeKind.Added)} to add, {Count(ChangeKind.Changed)} to change, {Count(ChangeKind.Removed)} to remove.");
        if (diff.BreakingChanges.Count > 0)
        {
            console.Line($"[red]{diff.BreakingChanges.Count} breaking change(s):[/]");
            foreach (var b in diff.BreakingChanges) console.Line($"  [red]{b}[/]");
        }
    }

    /// <summary>The user's name for an object kind.</summary>
    public static string KindName(ObjectKind kind) => kind switch
    {
        ObjectKind.Entity => "entity",
        ObjectKind.DataSource => "data source",
        ObjectKind.FeatureView => "feature view",
        ObjectKind.OnDemandFeatureView => "on-demand feature view",
        ObjectKind.FeatureService => "feature service",
        ObjectKind.TransformSource => "transform source",
        ObjectKind.Permission => "permission",
        _ => kind.ToString(),
    };
}
