using System.CommandLine;
using Granary.Definitions;
using Granary.Repository;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary><c>granary registry show &lt;object&gt;</c>: one object's definition as YAML (and a view's materialized intervals).</summary>
public sealed class RegistryShowCommand : ICliCommand
{
    private static readonly string[] Kinds = ["entity", "source", "feature_view", "on_demand_feature_view", "feature_service", "transform"];

    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var name = new Argument<string>("object") { Description = "The object's name (or a transform file such as transforms/conv_rate.cs)" };
        var kind = new Option<string?>("--kind") { Description = $"Which kind to look in when a name is used by several: {string.Join(", ", Kinds)}" };
        kind.AcceptOnlyFromAmong(Kinds);
        var version = RegistryCommand.VersionOption();
        var command = new Command("show", "Show one registry object as YAML, with materialized intervals for feature views") { name, kind, version };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(context.RepositoryRoot(parse), cancellationToken);
            var snapshot = parse.GetValue(version) is { } v
                ? await registry.Service.GetVersionAsync(registry.Project, v, cancellationToken)
                : await registry.Service.GetLatestAsync(registry.Project, cancellationToken);
            var wanted = parse.GetValue(name)!;
            var wantedKind = parse.GetValue(kind);

            if ((wantedKind is null or "transform") && snapshot.TransformSources.TryGetValue(wanted, out var code))
            {
                context.Console.WriteLine(code);
                return 0;
            }
            var matches = new List<(string Kind, RegistryObject Object)>();
            void Add(string k, RegistryObject? o) { if (o is not null && (wantedKind is null || wantedKind == k)) matches.Add((k, o)); }
            Add("entity", snapshot.FindEntity(wanted));
            Add("source", snapshot.FindDataSource(wanted));
            Add("feature_view", snapshot.FindFeatureView(wanted));
            Add("on_demand_feature_view", snapshot.FindOnDemandFeatureView(wanted));
            Add("feature_service", snapshot.FindFeatureService(wanted));
            if (matches.Count == 0)
            {
                var known = snapshot.Entities.Cast<RegistryObject>().Concat(snapshot.DataSources).Concat(snapshot.FeatureViews)
                    .Concat(snapshot.OnDemandFeatureViews).Concat(snapshot.FeatureServices).Select(o => o.Name).Concat(snapshot.TransformSources.Keys).Distinct().Order(StringComparer.Ordinal);
                throw new CliException($"registry version {snapshot.Version} of project '{registry.Project}' has no {wantedKind?.Replace('_', ' ') ?? "object"} named '{wanted}'; known: {string.Join(", ", known.DefaultIfEmpty("(none)"))}");
            }
            if (matches.Count > 1)
                throw new CliException($"'{wanted}' names a {string.Join(" and a ", matches.Select(m => m.Kind))}; pass --kind {matches[0].Kind} (or another)");
            var (foundKind, found) = matches[0];
            context.Console.MarkupLineInterpolated($"# {foundKind.Replace('_', ' ')} '{found.Name}', registry version {snapshot.Version}");
            context.Console.WriteLine(DefinitionYamlWriter.Write(found).TrimEnd());
            if (found is FeatureView && snapshot.MaterializationIntervals.TryGetValue(found.Name, out var intervals) && intervals.Count > 0)
            {
                context.Console.WriteLine("# materialized intervals:");
                foreach (var i in intervals) context.Console.WriteLine($"#   {i.Start:O} .. {i.End:O} (recorded {i.RecordedAt:O})");
            }
            return 0;
        }));
        return command;
    }
}
