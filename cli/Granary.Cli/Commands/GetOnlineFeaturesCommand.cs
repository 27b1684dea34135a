using System.CommandLine;
using System.Text.Json;
using Granary.Contracts;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Serving;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary get-online-features</c>: the latest values of features for entity keys, read through the entity grains of
/// the embedded silo (the same read path a server uses), with each value's status and event time; with <c>--server</c>,
/// the same read through a running gateway (<see cref="Granary.Client.GranaryClient"/>), printed the same way.
/// </summary>
public sealed class GetOnlineFeaturesCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var features = new Option<string?>("--features") { Description = "Comma-separated feature references, e.g. driver_stats:conv_rate", HelpName = "view:feature,..." };
        var service = new Option<string?>("--service") { Description = "A feature service name (instead of --features)", HelpName = "name" };
        var entities = new Option<string[]>("--entity")
        {
            Description = "One entity row: join keys and request data as key=value pairs, comma-separated (repeat for more rows)",
            Required = true, HelpName = "key=value[,key=value]",
        };
        var json = new Option<bool>("--json") { Description = "Print Feast's JSON response shape instead of a table" };
        var fullNames = new Option<bool>("--full-feature-names") { Description = "Name features view__feature" };
        var server = ServerOption.Create();
        var command = new Command("get-online-features", "Read the latest feature values for entity keys from the online store, with statuses")
        {
            features, service, entities, json, fullNames, server,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var references = (parse.GetValue(features) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var serviceName = parse.GetValue(service);
            if (references.Length == 0 == string.IsNullOrWhiteSpace(serviceName))
                throw new CliException("pass exactly one of --features view:feature,... or --service <name>");
            if (ServerOption.Url(context, parse, server) is { } url)
            {
                var remote = await ReadFromServerAsync(url, references, serviceName, parse.GetValue(entities) ?? [], parse.GetValue(fullNames), cancellationToken);
                if (parse.GetValue(json)) WriteJson(context.Console, remote);
                else WriteTable(context.Console, remote);
                return 0;
            }
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            var snapshot = await store.Grains.GetGrain<IRegistryGrain>(store.Config.Project).GetSnapshotAsync();
            if (snapshot.Version == 0) throw new CliException($"project '{store.Config.Project}' has no registry version yet; run 'granary apply' first");
            var catalog = store.Services.GetRequiredService<TransformCatalog>();
            HistoricalRetrievalPlan plan;
            try
            {
                plan = string.IsNullOrWhiteSpace(serviceName)
                    ? HistoricalRetrievalPlanner.ForFeatures(snapshot, references.Select(FeatureReference.Parse).ToList(), parse.GetValue(fullNames), v => catalog.GetTransform(snapshot, v.Name))
                    : HistoricalRetrievalPlanner.ForService(snapshot, serviceName, parse.GetValue(fullNames), v => catalog.GetTransform(snapshot, v.Name));
            }
            catch (Exception e) when (e is HistoricalRetrievalException or FormatException)
            {
                throw new CliException(e.Message);
            }
            var request = new OnlineFeaturesRequest { Project = snapshot.Project, Plan = plan, Entities = ParseRows(parse.GetValue(entities) ?? [], InputTypes(snapshot)) };
            var response = await OnlineRetrieval.ExecuteAsync(request, new EntityGrainFeatureSource(store.Grains), cancellationToken);
            if (parse.GetValue(json)) WriteJson(context.Console, response);
            else WriteTable(context.Console, response);
            return 0;
        }));
        return command;
    }

    /// <summary>The declared type of every entity-row column: join keys, then request data fields.</summary>
    private static Dictionary<string, ValueType> InputTypes(RegistrySnapshot snapshot)
    {
        var types = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        foreach (var entity in snapshot.Entities) types.TryAdd(entity.JoinKey, entity.ValueType);
        foreach (var source in snapshot.DataSources.OfType<RequestSource>())
            foreach (var field in source.Schema) types.TryAdd(field.Name, field.Type);
        return types;
    }

    /// <summary>
    /// The read through the gateway at <paramref name="url"/>: the server's registry types the <c>--entity</c> values (as
    /// the embedded form does with the local one), and the answer comes back in the embedded form's shape for printing.
    /// </summary>
    private static async Task<OnlineFeaturesResponse> ReadFromServerAsync(string url, string[] references, string? service, string[] entityRows, bool fullNames, CancellationToken cancellationToken)
    {
        using var client = ServerOption.Connect(url);
        var registry = await ServerOption.CallAsync(url, () => client.GetRegistryAsync(cancellationToken: cancellationToken));
        if (registry.Version == 0) throw new CliException($"project '{registry.Project}' on the server at {url} has no registry version yet; run 'granary apply' first");
        var types = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        foreach (var (name, typeName) in registry.InputTypes)
            if (FeastValueType(typeName) is { } type) types[name] = type;
        var columns = ParseRows(entityRows, types);
        var rows = new IReadOnlyDictionary<string, object?>[entityRows.Length];
        for (var r = 0; r < rows.Length; r++) rows[r] = columns.ToDictionary(c => c.Key, c => c.Value[r], StringComparer.Ordinal);
        var result = await ServerOption.CallAsync(url, () => string.IsNullOrWhiteSpace(service)
            ? client.GetOnlineFeaturesAsync(references, rows, fullNames, cancellationToken: cancellationToken)
            : client.GetOnlineFeaturesAsync(service, rows, fullNames, cancellationToken: cancellationToken));
        var results = new List<OnlineFeatureColumn>(result.FeatureNames.Count);
        for (var j = 0; j < result.FeatureNames.Count; j++)
        {
            var column = new OnlineFeatureColumn(new object?[result.Rows.Count], new Online.FeatureStatus[result.Rows.Count], new DateTimeOffset?[result.Rows.Count]);
            for (var i = 0; i < result.Rows.Count; i++)
            {
                var value = result.Rows[i][j];
                column.Values[i] = value.Value;
                column.Statuses[i] = value.Status switch
                {
                    Client.FeatureStatus.NullValue => Online.FeatureStatus.NullValue,
                    Client.FeatureStatus.NotFound => Online.FeatureStatus.NotFound,
                    Client.FeatureStatus.OutsideMaxAge => Online.FeatureStatus.OutsideMaxAge,
                    _ => Online.FeatureStatus.Present,
                };
                column.EventTimestamps[i] = value.EventTime;
                if (value.ServedFromCache) column.MarkServedFromCache(i);
            }
            results.Add(column);
        }
        return new OnlineFeaturesResponse(result.FeatureNames, results);
    }

    /// <summary>Granary's type of a Feast <c>ValueType</c> name as the server lists it (list types are never given as --entity text).</summary>
    private static ValueType? FeastValueType(string name) => FeastValues.TryParseTypeName(name, out var type) && !type.IsList ? type : null;

    /// <summary>Each <c>--entity</c> is one row; values are typed by the entity's join key or the request source's field, never guessed.</summary>
    private static Dictionary<string, IReadOnlyList<object?>> ParseRows(string[] rows, IReadOnlyDictionary<string, ValueType> types)
    {
        var columns = new Dictionary<string, List<object?>>(StringComparer.Ordinal);
        for (var r = 0; r < rows.Length; r++)
        {
            foreach (var pair in rows[r].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) throw new CliException($"--entity '{rows[r]}': '{pair}' is not key=value");
                var (name, text) = (pair[..eq], pair[(eq + 1)..]);
                if (!types.TryGetValue(name, out var type))
                    throw new CliException($"--entity '{rows[r]}': '{name}' is neither a join key nor a request data field; known: {string.Join(", ", types.Keys)}");
                if (!columns.TryGetValue(name, out var values)) columns[name] = values = [.. Enumerable.Repeat<object?>(null, r)];
                if (values.Count > r) throw new CliException($"--entity '{rows[r]}': '{name}' is given twice");
                try { values.Add(TypedText.Parse(text, type, $"--entity '{name}'")); }
                catch (OnlineRetrievalException e) { throw new CliException(e.Message); }
            }
            foreach (var values in columns.Values) while (values.Count <= r) values.Add(null);
        }
        return columns.ToDictionary(c => c.Key, c => (IReadOnlyList<object?>)c.Value, StringComparer.Ordinal);
    }

    private static void WriteJson(IAnsiConsole console, OnlineFeaturesResponse response)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true })) OnlineFeaturesJson.Write(writer, response);
        console.Write(new Text(System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine));
    }

    private static void WriteTable(IAnsiConsole console, OnlineFeaturesResponse response)
    {
        var table = new Table().AddColumns(response.FeatureNames.Select(n => new TableColumn(Markup.Escape(n))).ToArray());
        var rows = response.Results.Count == 0 ? 0 : response.Results[0].Values.Length;
        for (var r = 0; r < rows; r++)
        {
            table.AddRow(response.Results.Select(c =>
            {
                var status = c.Statuses[r];
                var text = c.Values[r] is { } v ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "" : "null";
                if (status != Online.FeatureStatus.Present) text = $"{text} ({OnlineFeaturesJson.StatusName(status)})";
                if (c.IsServedFromCache(r)) text += " (served from cache)";
                return (Spectre.Console.Rendering.IRenderable)new Text(text);
            }).ToArray());
        }
        console.Write(table);
        if (response.Results.Any(c => c.AnyServedFromCache))
            console.Write(new Text("The online store was unreachable: values marked (served from cache) are the last known ones." + Environment.NewLine));
    }
}
