using System.CommandLine;
using System.Globalization;
using System.Text;
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
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var snapshot = await registry.ReadAsync(parse.GetValue(version), cancellationToken);
            var wanted = parse.GetValue(name)!;
            var wantedKind = parse.GetValue(kind);

            if ((wantedKind is null or "transform") && snapshot.TransformSources.TryGetValue(wanted, out var code))
            {
                // Byte for byte, so `registry show transforms/x.cs > x.cs` gives the applied file back.
                context.Console.Raw(code);
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
            // Raw text, never wrapped to the console's width: the output is YAML a user may redirect and load again.
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"# {foundKind.Replace('_', ' ')} '{found.Name}', registry version {snapshot.Version}\n");
            text.Append(DefinitionYamlWriter.Write(found).TrimEnd()).Append('\n');
            if (found is FeatureView && snapshot.MaterializationIntervals.TryGetValue(found.Name, out var intervals) && intervals.Count > 0)
            {
                text.Append("# materialized intervals:\n");
                foreach (var i in intervals) text.Append(CultureInfo.InvariantCulture, $"#   {i.Start:O} .. {i.End:O} (recorded {i.RecordedAt:O})\n");
            }
            context.Console.Raw(text.ToString());
            return 0;
        }));
        return command;
    }
}
