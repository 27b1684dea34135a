using System.CommandLine;

namespace Granary.Cli.Commands;

/// <summary><c>granary materialize &lt;start&gt; &lt;end&gt; [--views ...]</c>: the latest row per entity in [start, end] into the online store.</summary>
public sealed class MaterializeCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var start = new Argument<string>("start") { Description = "Window start, ISO 8601 (no offset = UTC) or 'now'" };
        var end = new Argument<string>("end") { Description = "Window end (inclusive), ISO 8601 or 'now'" };
        var views = MaterializeViewsOption.Create();
        var command = new Command("materialize", "Load the latest feature values per entity within [start, end] from the offline store into the online store") { start, end, views };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var from = MaterializationRunner.ParseTime(parse.GetValue(start)!, "start");
            var to = MaterializationRunner.ParseTime(parse.GetValue(end)!, "end");
            if (to < from) throw new CliException($"end {to:O} is before start {from:O}");
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            return await MaterializationRunner.RunAsync(context, store, MaterializeViewsOption.Values(parse, views), from, to, cancellationToken);
        }));
        return command;
    }
}

/// <summary><c>granary materialize-incremental &lt;end&gt; [--views ...]</c>: from where each view's last run ended (Feast's rule for the first run) to end.</summary>
public sealed class MaterializeIncrementalCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var end = new Argument<string>("end") { Description = "Window end (inclusive), ISO 8601 or 'now'" };
        var views = MaterializeViewsOption.Create();
        var command = new Command("materialize-incremental",
            "Materialize each view from the end of its last materialized interval (first run: now - ttl) up to end") { end, views };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var to = MaterializationRunner.ParseTime(parse.GetValue(end)!, "end");
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            return await MaterializationRunner.RunAsync(context, store, MaterializeViewsOption.Values(parse, views), start: null, to, cancellationToken);
        }));
        return command;
    }
}

/// <summary>The <c>--views a,b</c> option both materialize commands take.</summary>
internal static class MaterializeViewsOption
{
    public static Option<string[]> Create() => new("--views")
    {
        Description = "Feature views to materialize (default: every view with online: true)",
        AllowMultipleArgumentsPerToken = true,
        HelpName = "view",
    };

    public static IReadOnlyList<string> Values(ParseResult parse, Option<string[]> option)
        => (parse.GetValue(option) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
}
