using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Hosting;
using Spectre.Console;

namespace Granary.Cli;

/// <summary>What <c>materialize</c> and <c>materialize-incremental</c> share: picking views, starting runs, drawing progress.</summary>
public static class MaterializationRunner
{
    /// <summary>
    /// Materializes <paramref name="views"/> (every online view when empty) of the store's project for [start, end]
    /// (start from the registry when <paramref name="start"/> is null), one progress bar per view; returns the exit code.
    /// </summary>
    public static async Task<int> RunAsync(CliContext context, EmbeddedFeatureStore store, IReadOnlyList<string> views,
        DateTimeOffset? start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var snapshot = await store.Grains.GetGrain<IRegistryGrain>(store.Config.Project).GetSnapshotAsync();
        if (snapshot.Version == 0) throw new CliException($"project '{store.Config.Project}' has no registry version yet; run 'granary apply' first");
        var chosen = Choose(snapshot, views);
        var grains = chosen.ToDictionary(v => v, v => store.Grains.GetGrain<IMaterializationGrain>($"{store.Config.Project}/{v}"));
        var statuses = new Dictionary<string, MaterializationStatus>();
        foreach (var (view, grain) in grains)
        {
            try
            {
                statuses[view] = await grain.StartAsync(start ?? default, end, incremental: start is null);
            }
            catch (MaterializationException e)
            {
                throw new CliException(e.Message);
            }
        }
        var cancelled = false;
        await context.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var bars = grains.Keys.ToDictionary(v => v, v => progress.AddTask(Markup.Escape(v), maxValue: 100));
                while (statuses.Values.Any(s => !s.IsFinished))
                {
                    try
                    {
                        await Task.Delay(200, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        cancelled = true;
                        break;
                    }
                    foreach (var (view, grain) in grains)
                    {
                        var status = statuses[view] = await grain.GetStatusAsync();
                        var bar = bars[view];
                        bar.Description = Markup.Escape($"{view}: {status.RowsWritten:N0} rows, {status.PartitionsDone}/{status.Partitions} partitions");
                        bar.Value = status.Partitions == 0 ? 0 : 100.0 * status.PartitionsDone / status.Partitions;
                        if (status.IsFinished) bar.StopTask();
                    }
                }
            });
        if (cancelled)
        {
            context.Console.Line($"[yellow]cancelled[/]: rows written so far stay in the online store (newest-wins makes a rerun safe)");
            return 130;
        }
        var failed = statuses.Values.Where(s => s.State == MaterializationRunState.Failed).ToList();
        foreach (var status in statuses.Values.OrderBy(s => s.View, StringComparer.Ordinal))
        {
            if (status.State == MaterializationRunState.Succeeded)
                context.Console.Line($"[green]{status.View}[/]: {status.RowsWritten:N0} entities materialized from {status.Start:u} to {status.End:u}");
            else
                context.Console.Line($"[red]{status.View}[/]: failed: {status.Error}");
        }
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>Parses a time given on the command line: ISO 8601, naive = UTC, or <c>now</c>.</summary>
    public static DateTimeOffset ParseTime(string text, string what)
    {
        if (string.Equals(text, "now", StringComparison.OrdinalIgnoreCase)) return DateTimeOffset.UtcNow;
        return IsoTime.TryParse(text, out var t)
            ? t
            : throw new CliException($"{what} '{text}' is not a time; give ISO 8601 (e.g. 2024-03-01T12:00:00Z; no offset means UTC) or 'now'");
    }

    private static IReadOnlyList<string> Choose(RegistrySnapshot snapshot, IReadOnlyList<string> views)
    {
        if (views.Count == 0)
        {
            var online = snapshot.FeatureViews.Where(v => v.Online).Select(v => v.Name).ToList();
            return online.Count > 0 ? online : throw new CliException($"project '{snapshot.Project}' has no feature view with online: true to materialize");
        }
        foreach (var view in views)
        {
            if (snapshot.FeatureViews.All(v => v.Name != view))
                throw new CliException($"project '{snapshot.Project}' has no feature view '{view}'; known: {string.Join(", ", snapshot.FeatureViews.Select(v => v.Name))}");
        }
        return views.Distinct(StringComparer.Ordinal).ToList();
    }
}
