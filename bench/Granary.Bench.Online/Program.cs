using System.Diagnostics;
using DuckDB.NET.Data;
using Granary.Cli;
using Granary.Definitions;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Hosting;
using Granary.Online;
using Granary.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Push throughput. One command (Release; Redis from GRANARY_TEST_REDIS: eval "$(deploy/test-services.sh env)"):
//   dotnet run -c Release --project bench/Granary.Bench.Online -- push [--rows 100000] [--batch 1000] [--entities 20000] [--pushers 4] [--store redis|sqlite] [--rounds 3]
// An embedded silo (one process) serves a fresh repository: one entity, a push source over a Parquet folder, one view
// with 4 features. Rows carry typed values (as a C# producer sends them) and unique event ids. Printed per mode, rows/s:
//   baseline          the same rows written straight to the online store (IOnlineStore.WriteAsync, same batch size)
//   online            push grain: validation, event-id claims, one store write per batch, the written rows handed to each silo
//   online, no ids    the same without an event-id column (no claims)
//   offline           push grain: validation, claims, one new Parquet file per batch
//   online_and_offline
// --pushers batches are in flight at once. Every round runs the baseline and each mode again (newer rows each time); the
// summary gives per mode the median rate and the median of its per-round ratio to that round's baseline, which a shared,
// busy machine disturbs less than one run.
// Stream ingestion (a redis-server of its own; see StreamBench.cs):
//   dotnet run -c Release --project bench/Granary.Bench.Online -- stream [--events 100000] [--batch 200] [--entities 20000] [--rate 2000] [--seconds 10]
var mode = args.FirstOrDefault() ?? "";
int Option(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? int.Parse(v) : fallback;
string Text(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
if (mode == "stream")
    return await StreamBench.RunAsync(Option("--events", 100_000), Option("--batch", 200), Option("--entities", 20_000), Option("--rate", 2_000), Option("--seconds", 10));
if (mode != "push")
{
    Console.Error.WriteLine("usage: Granary.Bench.Online push [--rows N] [--batch N] [--entities N] [--pushers N] [--store redis|sqlite] [--rounds N] | stream [--events N] [--batch N] [--entities N] [--rate N] [--seconds N]");
    return 2;
}
var (rows, batch, entities, pushers, storeKind) = (Option("--rows", 100_000), Option("--batch", 1000), Option("--entities", 20_000), Option("--pushers", 4), Text("--store", "redis"));
var rounds = Option("--rounds", 3);

var root = Directory.CreateTempSubdirectory("granary-bench-push-").FullName;
var project = "bench" + Guid.NewGuid().ToString("N")[..8];
var online = storeKind == "redis"
    ? $"online_store:\n  type: redis\n  connection_string: {Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379"}\n"
    : "online_store:\n  type: sqlite\n  path: data/online.db\n";
File.WriteAllText(Path.Combine(root, "granary.yaml"), $"project: {project}\n{online}");
Directory.CreateDirectory(Path.Combine(root, "data", "stats"));
using (var duck = new DuckDBConnection("DataSource=:memory:"))
{
    duck.Open();
    using var command = duck.CreateCommand();
    command.CommandText = $"COPY (SELECT 0::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0.0 AS f1, 0.0 AS f2, 0::BIGINT AS f3, 0::BIGINT AS f4) TO '{Path.Combine(root, "data", "stats", "seed.parquet")}' (FORMAT parquet)";
    command.ExecuteNonQuery();
}

try
{
    await using var store = await EmbeddedFeatureStore.StartAsync(root, minimumLogLevel: LogLevel.Error);
    await store.Grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(new RegistrySnapshot
    {
        Project = project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new FileSource { Name = "stats", Path = "data/stats", TimestampField = "event_timestamp" },
            new PushSource { Name = "stats_push", BatchSource = "stats" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "stats", Entities = ["driver"], Source = "stats_push",
                Features = [new("f1", new(ScalarType.Float64)), new("f2", new(ScalarType.Float64)), new("f3", new(ScalarType.Int64)), new("f4", new(ScalarType.Int64))],
            },
        ],
    }, ExpectedVersion: 0, Force: false));

    Console.WriteLine($"push benchmark: {rows:N0} rows, batches of {batch:N0}, {entities:N0} entities, {pushers} pushers, online store {storeKind}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    var grain = store.Grains.GetGrain<IPushGrain>($"{project}/stats_push");
    var onlineStore = store.Services.GetRequiredService<IOnlineStore>();
    var epoch = new DateTimeOffset(2024, 1, 2, 0, 0, 0, TimeSpan.Zero);
    var round = 0;

    // Each mode pushes newer event times than the last, so every row is applied (not ignored as older).
    PushRequest[] Batches(bool eventIds, PushMode to)
    {
        round++;
        var random = new Random(round);
        string[] columns = eventIds ? ["driver_id", "event_timestamp", "f1", "f2", "f3", "f4", "event_id"] : ["driver_id", "event_timestamp", "f1", "f2", "f3", "f4"];
        var result = new PushRequest[(rows + batch - 1) / batch];
        for (var b = 0; b < result.Length; b++)
        {
            var count = Math.Min(batch, rows - b * batch);
            var data = new object?[count][];
            for (var r = 0; r < count; r++)
            {
                var i = b * batch + r;
                object?[] row = [(long)random.Next(entities), epoch.AddHours(round).AddMilliseconds(i), random.NextDouble(), random.NextDouble(), (long)i, (long)round];
                data[r] = eventIds ? [.. row, $"{round}-{i}"] : row;
            }
            result[b] = new PushRequest(columns, data, to);
        }
        return result;
    }

    async Task<double> Run(string name, Func<int, Task> one, int count)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, pushers).Select(async _ =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < count) await one(b);
        }));
        var perSecond = rows / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"  {name,-22} {perSecond,10:N0} rows/s  ({clock.Elapsed.TotalSeconds:F2} s)");
        return perSecond;
    }

    // Warm-up: activates the entity grains' code paths and the store connections (not measured).
    var warm = Batches(eventIds: true, PushMode.Online);
    foreach (var b in warm.Take(3)) await grain.PushAsync(b);

    var modes = new[] { ("online", true, PushMode.Online), ("online, no event ids", false, PushMode.Online), ("offline", true, PushMode.Offline), ("online_and_offline", true, PushMode.OnlineAndOffline) };
    var rates = new Dictionary<string, List<double>>();
    var ratios = new Dictionary<string, List<double>>();
    for (var r = 1; r <= rounds; r++)
    {
        Console.WriteLine($"round {r} of {rounds}");
        var baselineBatches = Batches(eventIds: false, PushMode.Online);
        var baselineRows = baselineBatches.Select(b => b.Rows.Select(r => new OnlineRow(EntityKey.Create(project, "driver_id", ((long)r[0]!).ToString()), "stats", (DateTimeOffset)r[1]!, null,
            new Dictionary<string, object?> { ["f1"] = r[2], ["f2"] = r[3], ["f3"] = r[4], ["f4"] = r[5] })).ToList()).ToArray();
        var baseline = await Run("baseline (store only)", b => onlineStore.WriteAsync(baselineRows[b]), baselineRows.Length);
        rates.TryAdd("baseline (store only)", []);
        rates["baseline (store only)"].Add(baseline);

        foreach (var (name, ids, to) in modes)
        {
            var batches = Batches(ids, to);
            var accepted = 0L;
            var rate = await Run(name, async b => Interlocked.Add(ref accepted, (await grain.PushAsync(batches[b])).RowsAccepted), batches.Length);
            if (accepted != rows) throw new InvalidOperationException($"{name}: {accepted} of {rows} rows accepted");
            rates.TryAdd(name, []);
            rates[name].Add(rate);
            if (to == PushMode.Offline) continue;
            Console.WriteLine($"  {"",-22} {rate / baseline,10:P0} of the baseline");
            ratios.TryAdd(name, []);
            ratios[name].Add(rate / baseline);
        }
    }
    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
    Console.WriteLine($"median of {rounds} rounds:");
    foreach (var (name, list) in rates)
        Console.WriteLine($"  {name,-22} {Median(list),10:N0} rows/s" + (ratios.TryGetValue(name, out var ratio) ? $"  {Median(ratio),6:P0} of the baseline" : ""));
    return 0;
}
finally
{
    Directory.Delete(root, recursive: true);
}
