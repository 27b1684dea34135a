using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using ClientPushTarget = Granary.Client.PushTarget;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Push;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary push &lt;push source&gt; --file &lt;csv|parquet|json&gt; [--to online|offline|online_and_offline]</c>: validates the
/// whole file against the push source's schema first (nothing is sent when any row is bad), then pushes it in batches
/// through the push grain and prints what was accepted, dropped as duplicate and ignored as older. With <c>--server</c> the
/// file is checked the same way against the server's registry (<see cref="Granary.Client.GranaryClient.GetRegistryAsync"/>),
/// then the batches go to the running gateway (<see cref="Granary.Client.GranaryClient.PushAsync"/>), which checks each again.
/// </summary>
/// <remarks>
/// CSV values are read as text (never sniffed) and parsed as the declared types; an empty field is null. JSON is an array
/// of objects or one object per line; its scalars are parsed as the declared types too. Parquet values keep their stored
/// types and are converted only when exact.
/// </remarks>
public sealed class PushCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var source = new Argument<string>("push source") { Description = "The push source to push to (a source with type: push)" };
        var file = new Option<string>("--file") { Description = "The rows: a .csv (with a header), .parquet or .json file (an array of objects, or one object per line)", Required = true, HelpName = "file" };
        var to = new Option<string>("--to") { Description = "Where the rows go: online, offline or online_and_offline", DefaultValueFactory = _ => "online", HelpName = "mode" };
        var batchRows = new Option<int>("--batch-rows") { Description = "Rows per push call (each call is stored all or nothing)", DefaultValueFactory = _ => 1_000, HelpName = "n" };
        var server = ServerOption.Create();
        var command = new Command("push", "Push rows to a push source: validated against the schema of every feature view reading it, deduplicated by event id, written online and/or appended offline")
        {
            source, file, to, batchRows, server,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var name = parse.GetValue(source)!;
            if (!PushModes.TryParse(parse.GetValue(to), out var mode))
                throw new CliException($"--to '{parse.GetValue(to)}' is not a push mode; use online, offline or online_and_offline");
            var size = parse.GetValue(batchRows);
            if (size <= 0) throw new CliException($"--batch-rows {size} must be positive");
            var batch = ReadFile(parse.GetValue(file)!);
            if (ServerOption.Url(context, parse, server) is { } url)
            {
                var sent = await PushToServerAsync(url, name, batch, mode, size, cancellationToken);
                Report(context.Console, name, mode, sent);
                return 0;
            }

            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            var project = store.Config.Project;
            // The whole file is checked before any row is sent, so a bad row anywhere leaves nothing behind.
            var snapshot = await store.Grains.GetGrain<IRegistryGrain>(project).GetSnapshotAsync();
            var eventIdColumn = store.Services.GetService<IOptions<PushOptions>>()?.Value.EventIdColumn ?? PushOptions.DefaultEventIdColumn;
            PushValidator.Validate(PushPlan.For(snapshot, name), batch, eventIdColumn);

            var grain = store.Grains.GetGrain<IPushGrain>($"{project}/{name}");
            var columns = batch.Columns.ToArray();
            var totals = new PushTotals();
            for (var start = 0; start < batch.Rows.Count; start += size)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rows = batch.Rows.Skip(start).Take(size).ToArray();
                var result = await grain.PushAsync(new PushRequest(columns, rows, mode));
                totals = totals.Add(result.RowsReceived, result.RowsAccepted, result.DuplicatesDropped, result.RowsIgnoredAsOlder, result.OnlineRowsApplied, result.OfflineRowsAppended);
            }
            Report(context.Console, name, mode, totals);
            return 0;
        }));
        return command;
    }

    /// <summary>What the batches of one push added up to.</summary>
    private readonly record struct PushTotals(int Received, int Accepted, int Duplicates, int Older, int Online, long Offline)
    {
        public PushTotals Add(int received, int accepted, int duplicates, int older, int online, long offline) =>
            new(Received + received, Accepted + accepted, Duplicates + duplicates, Older + older, Online + online, Offline + offline);
    }

    private static void Report(IAnsiConsole console, string name, PushMode mode, PushTotals totals)
    {
        console.Line($"Pushed [green]{totals.Accepted:N0}[/] of {totals.Received:N0} rows to [green]{name}[/] ({PushModes.Name(mode)})");
        console.Line($"  duplicates dropped: {totals.Duplicates:N0}; online rows applied: {totals.Online:N0}, ignored as older: {totals.Older:N0}; offline rows appended: {totals.Offline:N0}");
    }

    /// <summary>
    /// Pushes <paramref name="batch"/> through the gateway at <paramref name="url"/> in batches of <paramref name="size"/>.
    /// Every row is checked first against the server's registry, so a bad row anywhere sends nothing; the server checks each
    /// batch again (a registry applied in between may still refuse one, and batches before it stay pushed).
    /// </summary>
    private static async Task<PushTotals> PushToServerAsync(string url, string name, PushBatch batch, PushMode mode, int size, CancellationToken cancellationToken)
    {
        using var client = ServerOption.Connect(url);
        // The whole file is checked against the server's registry before any row is sent (as the embedded form does), so a
        // bad row in a later batch leaves nothing pushed; the server still checks each batch it receives.
        var registry = await ServerOption.CallAsync(url, () => client.GetRegistryAsync(cancellationToken: cancellationToken));
        if (registry.Version == 0) throw new CliException($"project '{registry.Project}' on the server at {url} has no registry version yet; run 'granary apply' first");
        PushValidator.Validate(PushPlan.For(ServerOption.Snapshot(registry), name), batch, PushOptions.DefaultEventIdColumn);
        var target = mode switch { PushMode.Offline => ClientPushTarget.Offline, PushMode.OnlineAndOffline => ClientPushTarget.OnlineAndOffline, _ => ClientPushTarget.Online };
        var totals = new PushTotals();
        for (var start = 0; start < batch.Rows.Count; start += size)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rows = new List<IReadOnlyDictionary<string, object?>>(Math.Min(size, batch.Rows.Count - start));
            for (var r = start; r < Math.Min(start + size, batch.Rows.Count); r++)
            {
                var row = new Dictionary<string, object?>(batch.Columns.Count, StringComparer.Ordinal);
                for (var c = 0; c < batch.Columns.Count; c++) row[batch.Columns[c]] = Wire(batch.Rows[r][c]);
                rows.Add(row);
            }
            var result = await ServerOption.CallAsync(url, () => client.PushAsync(name, rows, target, cancellationToken: cancellationToken));
            totals = totals.Add(result.RowsReceived, result.RowsAccepted, result.DuplicatesDropped, result.RowsIgnoredAsOlder, result.OnlineRowsApplied, result.OfflineRowsAppended);
        }
        return totals;
    }

    /// <summary>
    /// A file value as the client sends it: values it has no wire form for go as their exact text, which the push grain
    /// parses as the declared type (as it does CSV text); a timestamp goes in whole seconds, Feast's wire form.
    /// </summary>
    private static object? Wire(object? value) => value switch
    {
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        object?[] list => list.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)).ToArray(),
        _ => value,
    };

    /// <summary>Reads a push file into raw rows (see the remarks on <see cref="PushCommand"/>).</summary>
    internal static PushBatch ReadFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new CliException($"push file '{full}' does not exist");
        if (new FileInfo(full).Length == 0) throw new CliException($"push file '{full}' is empty");
        return Path.GetExtension(full).ToLowerInvariant() switch
        {
            ".csv" => ReadWithDuckDb(full, $"read_csv({Sql.Literal(full)}, header = true, all_varchar = true)"),
            ".parquet" => ReadWithDuckDb(full, $"read_parquet({Sql.Literal(full)})"),
            ".json" or ".jsonl" or ".ndjson" => ReadJson(full),
            _ => throw new CliException($"push file '{full}' must be a .csv, .parquet or .json file"),
        };
    }

    private static PushBatch ReadWithDuckDb(string path, string read)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        connection.Execute("SET TimeZone = 'UTC'");
        try
        {
            using var reader = connection.QueryRows($"SELECT * FROM {read}");
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[columns.Count];
                for (var i = 0; i < row.Length; i++) row[i] = reader.GetValue(i);
                rows.Add(row);
            }
            return new PushBatch(columns, rows);
        }
        catch (DuckDBException e)
        {
            throw new CliException($"cannot read push file '{path}': {e.Message}");
        }
    }

    private static PushBatch ReadJson(string path)
    {
        var text = File.ReadAllText(path);
        var objects = new List<(int Line, JsonElement Row)>();
        try
        {
            if (text.TrimStart().StartsWith('['))
            {
                using var document = JsonDocument.Parse(text);
                var i = 0;
                foreach (var element in document.RootElement.EnumerateArray()) objects.Add((++i, element.Clone()));
            }
            else
            {
                var lines = text.Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    if (string.IsNullOrWhiteSpace(lines[i])) continue;
                    using var document = JsonDocument.Parse(lines[i]);
                    objects.Add((i + 1, document.RootElement.Clone()));
                }
            }
        }
        catch (JsonException e)
        {
            throw new CliException($"push file '{path}' is not JSON (an array of objects, or one object per line): {e.Message}");
        }
        var columns = new List<string>();
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, row) in objects)
        {
            if (row.ValueKind != JsonValueKind.Object)
                throw new CliException($"push file '{path}': entry {line} is {row.ValueKind}, not an object of column: value");
            foreach (var property in row.EnumerateObject())
                if (positions.TryAdd(property.Name, columns.Count)) columns.Add(property.Name);
        }
        var rows = new List<object?[]>(objects.Count);
        foreach (var (line, row) in objects)
        {
            var values = new object?[columns.Count];
            foreach (var property in row.EnumerateObject()) values[positions[property.Name]] = Raw(property.Value, path, line, property.Name);
            rows.Add(values);
        }
        return new PushBatch(columns, rows);
    }

    // JSON scalars become text, parsed later as the declared type (a number's digits exactly as written).
    private static object? Raw(JsonElement value, string path, int line, string column) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => value.EnumerateArray().Select(e => Raw(e, path, line, column)).ToArray(),
        _ => throw new CliException($"push file '{path}': entry {line}, column '{column}' is a JSON object; give a scalar or a list"),
    };
}
