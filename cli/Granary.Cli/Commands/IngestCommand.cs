using System.CommandLine;
using System.Diagnostics;
using Granary.Client;
using Granary.Definitions;
using Granary.Grains.Push;
using Granary.Grains.Streams;
using Granary.Push;
using Granary.Repository;
using Granary.Streams;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Spectre.Console;
using ClientPushTarget = Granary.Client.PushTarget;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary ingest &lt;push source&gt;</c>: runs the stream worker of a push source that names a <c>stream:</c> in the
/// foreground, printing progress (events read, pushed, duplicates, dead-lettered, claimed, lag) each second until Ctrl+C
/// or, with <c>--until-caught-up</c>, until the group has nothing unread or pending. Pushes go through the embedded silo, or
/// with <c>--server</c> through a running gateway. <c>--dead-letters</c> lists the stream's dead letters instead.
/// </summary>
public sealed class IngestCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var source = new Argument<string>("push source") { Description = "A push source whose definition has a 'stream:'" };
        var consumer = new Option<string?>("--consumer") { Description = "This worker's name in the consumer group (default: host name and process id)", HelpName = "name" };
        var untilCaughtUp = new Option<bool>("--until-caught-up") { Description = "Stop once the consumer group has no unread or pending events" };
        var deadLetters = new Option<bool>("--dead-letters") { Description = "List the stream's dead letters (newest first) instead of ingesting" };
        var limit = new Option<int>("--limit") { Description = "With --dead-letters: how many to list", DefaultValueFactory = _ => 20, HelpName = "n" };
        var server = ServerOption.Create();
        var command = new Command("ingest", "Read a push source's stream into the push path: micro-batched, acknowledged only once pushed, deduplicated by event id, bad events dead-lettered")
        {
            source, consumer, untilCaughtUp, deadLetters, limit, server,
        };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var root = context.RepositoryRoot(parse);
            if (!File.Exists(Path.Combine(root, RepositoryConfig.FileName)))
                throw new CliException($"no {RepositoryConfig.FileName} in '{root}'; run 'granary ingest' in a feature repository, or pass --repo <dir>");
            var repository = FeatureRepositoryLoader.Load(root);
            var name = parse.GetValue(source)!;
            var stream = StreamOf(repository, name);
            var worker = parse.GetValue(consumer) ?? $"{Environment.MachineName}-{Environment.ProcessId}";
            var defaultConnection = repository.Config.OnlineStore.Kind == OnlineStoreKind.Redis ? repository.Config.OnlineStore.ConnectionString : null;
            using var engines = new ServiceCollection().AddGranaryStoreEngines().BuildServiceProvider();
            await using var events = await StreamSources.OpenAsync(engines.GetServices<IStreamSourceProvider>(), stream, worker, defaultConnection, cancellationToken);

            if (parse.GetValue(deadLetters))
            {
                ListDeadLetters(context.Console, stream, await events.ReadDeadLettersAsync(parse.GetValue(limit), cancellationToken));
                return 0;
            }
            PushModes.TryParse(stream.To, out var mode);
            var logger = parse.GetValue(context.VerboseOption)
                ? LoggerFactory.Create(b => b.AddSimpleConsole()).CreateLogger<StreamIngestWorker>() : (ILogger)NullLogger.Instance;
            if (ServerOption.Url(context, parse, server) is { } url)
            {
                using var client = ServerOption.Connect(url);
                var target = new ClientStreamTarget(client, url, name, mode);
                await RunAsync(context.Console, new StreamIngestWorker(name, stream, events, target, PushOptions.DefaultEventIdColumn, TimeProvider.System, logger),
                    name, stream, worker, parse.GetValue(untilCaughtUp), cancellationToken);
                return 0;
            }
            await using var store = await context.StartStoreAsync(parse, cancellationToken);
            var eventIdColumn = store.Services.GetService<IOptions<PushOptions>>()?.Value.EventIdColumn ?? PushOptions.DefaultEventIdColumn;
            var grainTarget = new PushGrainStreamTarget(store.Grains, store.Config.Project, name, mode);
            await RunAsync(context.Console, new StreamIngestWorker(name, stream, events, grainTarget, eventIdColumn, TimeProvider.System, logger),
                name, stream, worker, parse.GetValue(untilCaughtUp), cancellationToken);
            return 0;
        }));
        return command;
    }

    /// <summary>The stream of push source <paramref name="name"/>; the user's to fix when there is no such source or it names no stream.</summary>
    private static StreamDefinition StreamOf(FeatureRepository repository, string name)
    {
        var defined = repository.DataSources.FirstOrDefault(d => d.Value.Name == name)
            ?? throw new CliException($"there is no source '{name}' in the repository; push sources: {string.Join(", ", repository.DataSources.Where(d => d.Value is PushSource).Select(d => d.Value.Name))}");
        if (defined.Value is not PushSource push)
            throw new CliException($"source '{name}' ({defined.Location}) is not a push source; only a push source can be fed by a stream");
        return push.Stream ?? throw new CliException($"push source '{name}' ({defined.Location}) names no stream",
            "add 'stream: { type: redis, key: ..., group: ..., event_id_field: ..., event_time_field: ... }' to it (docs/streaming.md)");
    }

    /// <summary>Runs the worker, printing progress each second; stops on Ctrl+C, or once caught up when asked.</summary>
    private static async Task RunAsync(IAnsiConsole console, StreamIngestWorker worker, string name, StreamDefinition stream, string consumer, bool untilCaughtUp,
        CancellationToken cancellationToken)
    {
        console.Line($"Ingesting [green]{stream.Key}[/] (group {stream.Group}, consumer {consumer}) into push source [green]{name}[/], {stream.To}; batches of {stream.BatchSize} or {DurationText.Format(stream.BatchTime)}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = worker.RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        var last = worker.Progress;
        var lastAt = TimeSpan.Zero;
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
            var now = worker.Progress;
            var rate = (now.Pushed + now.Duplicates - last.Pushed - last.Duplicates) / Math.Max(0.001, (clock.Elapsed - lastAt).TotalSeconds);
            (last, lastAt) = (now, clock.Elapsed);
            Print(console, now, rate);
            if (untilCaughtUp && now.Read + now.Claimed > 0 && now.Lag is { Total: 0 } && !stop.IsCancellationRequested) stop.Cancel();
        }
        try
        {
            await running;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Stopped because it caught up.
        }
        Print(console, worker.Progress, 0);
        console.Line($"stopped; events read and not pushed stay pending in the group and are claimed by the next worker after {DurationText.Format(stream.ClaimAfter)}");
    }

    private static void Print(IAnsiConsole console, StreamIngestProgress p, double rate)
    {
        var lag = p.Lag is { } l ? $"{l.Unread} unread, {l.Pending} pending" : "not measured yet";
        console.Line($"read {p.Read}, claimed {p.Claimed}, pushed {p.Pushed}, duplicates {p.Duplicates}, dead-lettered {p.DeadLettered}, {rate:0} events/s; lag: {lag}");
    }

    private static void ListDeadLetters(IAnsiConsole console, StreamDefinition stream, IReadOnlyList<DeadLetter> letters)
    {
        if (letters.Count == 0)
        {
            console.Line($"no dead letters in [green]{stream.DeadLetters}[/]");
            return;
        }
        console.Line($"{letters.Count} dead letters in [green]{stream.DeadLetters}[/], newest first:");
        foreach (var letter in letters)
        {
            console.Line($"  {letter.Position} at {letter.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z: [red]{letter.Reason}[/]");
            console.Line($"    {string.Join(", ", letter.Fields.Select(f => $"{f.Key}={StreamEventMapper.Shorten(f.Value)}"))}");
        }
    }

    /// <summary>The worker's push path through a running gateway (client SDK): INVALID_ARGUMENT is a refused batch; unavailable or late is retried.</summary>
    private sealed class ClientStreamTarget(GranaryClient client, string url, string pushSource, PushMode mode) : IStreamPushTarget
    {
        private readonly ClientPushTarget _to = mode switch { PushMode.Offline => ClientPushTarget.Offline, PushMode.OnlineAndOffline => ClientPushTarget.OnlineAndOffline, _ => ClientPushTarget.Online };

        public async Task<StreamPushResult> PushAsync(string[] columns, object?[][] rows, CancellationToken cancellationToken)
        {
            var dictionaries = new List<IReadOnlyDictionary<string, object?>>(rows.Length);
            foreach (var row in rows)
            {
                var d = new Dictionary<string, object?>(columns.Length, StringComparer.Ordinal);
                for (var c = 0; c < columns.Length; c++) d[columns[c]] = row[c];
                dictionaries.Add(d);
            }
            try
            {
                var result = await client.PushAsync(pushSource, dictionaries, _to, cancellationToken: cancellationToken);
                return new StreamPushResult(result.RowsAccepted, result.DuplicatesDropped, null);
            }
            catch (GranaryClientException e) when (e.StatusCode == StatusCode.InvalidArgument)
            {
                return new StreamPushResult(0, 0, e.Message);
            }
            catch (GranaryClientException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Aborted)
            {
                throw new StreamUnavailableException($"the push to '{pushSource}' at {url} did not complete: {e.Message}");
            }
        }
    }
}
