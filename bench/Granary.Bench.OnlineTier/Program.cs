// Online tier benchmark. Usage (from the repository root):
//   dotnet run -c Release --project bench/Granary.Bench.OnlineTier -- materialize [--rows 10000000] [--entities 1000000]
//       [--features 10] [--partitions 2] [--batch 2000] [--in-flight 4] [--cache DIR] [--redis host:port]
//   dotnet run -c Release --project bench/Granary.Bench.OnlineTier -- reads [--seconds 5] [--entities 200000] [--callers 1,8] [--redis host:port]
// Without --redis it starts a redis-server of its own on a free loopback port (no persistence) and stops it at the end.
// materialize: generates the view's Parquet with DuckDB SQL (cached), materializes it into Redis through the embedded
//   silo's MaterializationGrain, then writes the same latest rows to the same Redis with a plain pipelined
//   StackExchange.Redis loop (HSET per entity hash); prints features/s of both, their ratio and the peak working set.
// reads: writes a 50-feature view's rows for N entities straight into the online store, then times get-online-features
//   through the entity grains for 1 entity x 5 features and 100 entities x 50 features, hot (grains active) and cold
//   (each request's entities never read before, so their grains load from Redis).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DuckDB.NET.Data;
using Granary.Cli;
using Granary.Bench.OnlineTier;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Hosting;
using Granary.Offline;
using Granary.Online;
using Granary.Registry;
using Granary.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

var mode = args.Length > 0 ? args[0] : "";
var options = Args.Parse(args.Skip(1).ToArray());
if (mode is not ("materialize" or "reads"))
{
    Console.Error.WriteLine("usage: Granary.Bench.OnlineTier materialize|reads [options]; see the top of Program.cs");
    return 2;
}
await using var redis = await BenchRedis.StartAsync(options.Get("redis", null));
Console.WriteLine($"Granary online-tier benchmark ({mode}), {Environment.ProcessorCount} cores, .NET {Environment.Version}, Redis {redis.Endpoint}{(redis.Own ? " (own server)" : "")}, load average {LoadAverage()}");
return mode == "materialize" ? await MaterializeBench.RunAsync(options, redis.Endpoint) : await ReadsBench.RunAsync(options, redis.Endpoint);

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

namespace Granary.Bench.OnlineTier
{
    internal sealed class Args(Dictionary<string, string> values)
    {
        public static Args Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --option value, got '{args[i]}'");
                values[args[i][2..]] = args[i + 1];
            }
            return new Args(values);
        }

        public string? Get(string name, string? fallback) => values.TryGetValue(name, out var v) ? v : fallback;
        public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The Redis both sides write to: the one given, or a redis-server of the benchmark's own.</summary>
    internal sealed class BenchRedis : IAsyncDisposable
    {
        private Process? _server;
        private string? _dir;

        public string Endpoint { get; private init; } = "";
        public bool Own => _server is not null;

        public static async Task<BenchRedis> StartAsync(string? endpoint)
        {
            if (endpoint is not null) return new BenchRedis { Endpoint = endpoint };
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var dir = Directory.CreateTempSubdirectory("granary-bench-redis-").FullName;
            var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, WorkingDirectory = dir };
            foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no" })
                info.ArgumentList.Add(a);
            var server = Process.Start(info)!;
            server.OutputDataReceived += static (_, _) => { };
            server.BeginOutputReadLine();
            var bench = new BenchRedis { Endpoint = $"127.0.0.1:{port}", _server = server, _dir = dir };
            for (var i = 0; ; i++)
            {
                try
                {
                    await using var probeConnection = await ConnectionMultiplexer.ConnectAsync(bench.Endpoint);
                    await probeConnection.GetDatabase().PingAsync();
                    return bench;
                }
                catch (RedisConnectionException) when (i < 50) { await Task.Delay(100); }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_server is { } server)
            {
                server.Kill();
                await server.WaitForExitAsync();
                Directory.Delete(_dir!, recursive: true);
            }
        }
    }

    /// <summary>A repository folder with a granary.yaml on Redis, and the embedded silo serving it.</summary>
    internal static class BenchRepository
    {
        public static async Task<EmbeddedFeatureStore> StartAsync(string root, string project, string redis, Action<ISiloBuilder>? configure = null)
        {
            Directory.CreateDirectory(Path.Combine(root, "data"));
            await File.WriteAllTextAsync(Path.Combine(root, "granary.yaml"),
                $"project: {project}\nonline_store:\n  type: redis\n  connection_string: \"{redis},asyncTimeout=30000,syncTimeout=30000\"\n");
            return await EmbeddedFeatureStore.StartAsync(root, configure, LogLevel.Error);
        }

        public static RegistrySnapshot View(string project, string sourcePath, int features, TimeSpan? ttl) => new()
        {
            Project = project,
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new FileSource { Name = "driver_source", Path = sourcePath, TimestampField = "event_timestamp", CreatedTimestampField = "created" }],
            FeatureViews =
            [
                new FeatureView
                {
                    Name = "driver_stats", Entities = ["driver"], Source = "driver_source", Ttl = ttl,
                    Features = Enumerable.Range(0, features).Select(f => new Field($"f{f}", new(f % 2 == 0 ? ScalarType.Float64 : ScalarType.Int64))).ToList(),
                },
            ],
        };

        /// <summary>DuckDB SQL for the view's columns: driver_id, event_timestamp, created, f0.. (Float64 even, Int64 odd).</summary>
        public static string FeatureColumns(int features)
            => string.Join(",\n", Enumerable.Range(0, features).Select(f => f % 2 == 0
                ? $"  (hash(i * {f + 7}) % 1000000) / 1000000.0 AS f{f}"
                : $"  CAST(hash(i + {f}) % 100000 AS BIGINT) AS f{f}"));

        public static void Sql(string sql)
        {
            using var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        /// <summary>Resets the kernel's peak-RSS mark of this process (VmHWM), so a later peak is the measured phase's own.</summary>
        public static void ResetPeakWorkingSet()
        {
            try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        public static long PeakWorkingSetMiB()
        {
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            return self.PeakWorkingSet64 / (1024 * 1024);
        }
    }

    internal static class MaterializeBench
    {
        public static async Task<int> RunAsync(Args options, string redis)
        {
            var rows = options.Int("rows", 10_000_000);
            var entities = options.Int("entities", 1_000_000);
            var features = options.Int("features", 10);
            var cache = options.Get("cache", null) ?? Path.Combine(Path.GetTempPath(), "granary-bench-materialize");
            var root = Path.Combine(cache, "repo");
            var sourcePath = Path.Combine(root, "data", $"drivers-{rows}-{entities}-{features}.parquet");
            Directory.CreateDirectory(Path.GetDirectoryName(sourcePath)!);
            if (!File.Exists(sourcePath))
            {
                var generate = Stopwatch.StartNew();
                // rows spread over entities; event times at pseudo-random seconds of 30 days, created breaks ties.
                BenchRepository.Sql($"""
                    SET TimeZone = 'UTC';
                    COPY (SELECT (i % {entities}) + 1 AS driver_id,
                      TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(hash(i) % 2592000 AS BIGINT)) AS event_timestamp,
                      TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(i % 2592000 AS BIGINT)) AS created,
                    {BenchRepository.FeatureColumns(features)}
                    FROM range({rows}) t(i)) TO '{sourcePath}' (FORMAT parquet, COMPRESSION snappy);
                    """);
                Console.WriteLine($"generated {rows:N0} rows over {entities:N0} entities x {features} features in {generate.Elapsed.TotalSeconds:F1} s: {sourcePath} ({new FileInfo(sourcePath).Length / 1048576} MiB)");
            }
            var partitions = options.Int("partitions", 2); // the default for one silo: 2 per active silo
            var batch = options.Int("batch", 2_000);
            var inFlight = options.Int("in-flight", 4);
            var (start, end) = (new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.Zero));

            // Granary: the MaterializationGrain of an embedded silo, online store Redis.
            var project = "bench" + Guid.NewGuid().ToString("N")[..6];
            GC.Collect();
            BenchRepository.ResetPeakWorkingSet();
            await using (var store = await BenchRepository.StartAsync(root, project, redis, silo => silo.Services.Configure<MaterializationOptions>(o =>
                         {
                             o.Partitions = partitions;
                             o.BatchSize = batch;
                             o.BatchesInFlight = inFlight;
                         })))
            {
                await store.Grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(
                    BenchRepository.View(project, Path.GetRelativePath(root, sourcePath), features, ttl: null), ExpectedVersion: 0, Force: false));
                var grain = store.Grains.GetGrain<IMaterializationGrain>($"{project}/driver_stats");
                var clock = Stopwatch.StartNew();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var status = await grain.StartAsync(start, end, incremental: false);
                while (!status.IsFinished)
                {
                    await Task.Delay(100);
                    status = await grain.GetStatusAsync();
                }
                var wall = clock.Elapsed;
                var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                if (status.State != MaterializationRunState.Succeeded) throw new InvalidOperationException($"materialization failed: {status.Error}");
                var granaryRate = status.RowsWritten * features / wall.TotalSeconds;
                Console.WriteLine($"granary   : {status.RowsWritten:N0} latest rows x {features} features in {wall.TotalSeconds:F2} s = {granaryRate:N0} features/s ({status.RowsWritten / wall.TotalSeconds:N0} rows/s), process CPU {cpuUsed.TotalSeconds:F1} s, peak working set {BenchRepository.PeakWorkingSetMiB():N0} MiB (partitions {partitions}, batch {batch}, in flight {inFlight})");

                // Where the time goes: the offline read alone (same partitions, at once), the online write alone (same rows).
                var (readRows, readWall) = await ReadOnlyAsync(store, project, partitions, start, end);
                Console.WriteLine($"  read only : {readRows:N0} latest rows from DuckDB in {readWall.TotalSeconds:F2} s ({readRows / readWall.TotalSeconds:N0} rows/s), {partitions} partitions at once");
                var writeWall = await WriteOnlyAsync(store, project + "w", status.RowsWritten, features, batch, inFlight * partitions);
                Console.WriteLine($"  write only: {status.RowsWritten:N0} rows into Redis through the store in {writeWall.TotalSeconds:F2} s ({status.RowsWritten / writeWall.TotalSeconds:N0} rows/s), batch {batch}, {inFlight * partitions} batches in flight");

                // Baseline: the same latest rows (DuckDB's arg_max per entity over the same file) HSET per entity hash.
                GC.Collect();
                BenchRepository.ResetPeakWorkingSet();
                var baseline = await BaselineAsync(sourcePath, features, start, end, redis);
                var baseRate = baseline.Rows * features / baseline.Wall.TotalSeconds;
                Console.WriteLine($"baseline  : {baseline.Rows:N0} latest rows x {features} features in {baseline.Wall.TotalSeconds:F2} s = {baseRate:N0} features/s (read {baseline.Read.TotalSeconds:F2} s of it), peak working set {BenchRepository.PeakWorkingSetMiB():N0} MiB");
                Console.WriteLine($"ratio     : granary / baseline = {granaryRate / baseRate:F2}");
                if (baseline.Rows != status.RowsWritten) Console.WriteLine($"WARNING: baseline wrote {baseline.Rows:N0} rows, granary {status.RowsWritten:N0}");
            }
            return 0;
        }

        private static async Task<(long Rows, TimeSpan Wall)> ReadOnlyAsync(EmbeddedFeatureStore store, string project, int partitions, DateTimeOffset start, DateTimeOffset end)
        {
            var snapshot = await store.Grains.GetGrain<IRegistryGrain>(project).GetSnapshotAsync();
            var view = snapshot.FeatureViews[0];
            var source = OfflineSources.ResolveBatchSource(snapshot, view);
            var offline = store.Services.GetServices<IOfflineStore>().First(s => s.CanRead(source));
            var clock = Stopwatch.StartNew();
            var counts = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => Task.Run(async () =>
            {
                long n = 0;
                await foreach (var _ in offline.ReadLatestRowsAsync(new LatestRowsQuery
                {
                    View = view, Source = source, JoinKeys = ["driver_id"], Features = view.Features.Select(f => f.Name).ToList(),
                    Start = start, End = end, PartitionCount = partitions, PartitionIndex = p,
                })) n++;
                return n;
            })));
            return (counts.Sum(), clock.Elapsed);
        }

        private static async Task<TimeSpan> WriteOnlyAsync(EmbeddedFeatureStore store, string project, long rows, int features, int batchSize, int inFlight)
        {
            var online = store.Services.GetRequiredService<IOnlineStore>();
            var at = new DateTimeOffset(2024, 1, 15, 0, 0, 0, TimeSpan.Zero);
            var pending = new Queue<Task>();
            var clock = Stopwatch.StartNew();
            for (long first = 1; first <= rows; first += batchSize)
            {
                var batch = new List<OnlineRow>(batchSize);
                for (var d = first; d < first + batchSize && d <= rows; d++)
                {
                    var values = new Dictionary<string, object?>(features, StringComparer.Ordinal);
                    for (var f = 0; f < features; f++) values[$"f{f}"] = f % 2 == 0 ? d * 0.5 : (object)d;
                    batch.Add(new OnlineRow(EntityKey.Create(project, "driver_id", d.ToString(CultureInfo.InvariantCulture)), "driver_stats", at, at, values));
                }
                pending.Enqueue(online.WriteAsync(batch));
                if (pending.Count >= inFlight) await pending.Dequeue();
            }
            while (pending.Count > 0) await pending.Dequeue();
            return clock.Elapsed;
        }

        /// <summary>
        /// What a user would write without Granary: one DuckDB query for the latest row per entity, then HSET of every
        /// feature into the entity's hash, pipelined (a window of outstanding commands), no version check.
        /// </summary>
        private static async Task<(long Rows, TimeSpan Wall, TimeSpan Read)> BaselineAsync(string sourcePath, int features, DateTimeOffset start, DateTimeOffset end, string redis)
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(redis + ",asyncTimeout=30000");
            var db = connection.GetDatabase();
            var clock = Stopwatch.StartNew();
            var reading = new Stopwatch();
            using var duck = new DuckDBConnection("DataSource=:memory:");
            duck.Open();
            using var command = duck.CreateCommand();
            var columns = string.Join(", ", Enumerable.Range(0, features).Select(f => $"f{f}"));
            command.CommandText = $"""
                SET TimeZone = 'UTC';
                SELECT driver_id, epoch_us(event_timestamp), {columns} FROM (
                  SELECT *, row_number() OVER (PARTITION BY driver_id ORDER BY event_timestamp DESC, created DESC) AS rn
                  FROM read_parquet('{sourcePath}')
                  WHERE event_timestamp BETWEEN TIMESTAMPTZ '{start:yyyy-MM-dd HH:mm:ss}+00' AND TIMESTAMPTZ '{end:yyyy-MM-dd HH:mm:ss}+00')
                WHERE rn = 1
                """;
            reading.Start();
            using var reader = command.ExecuteReader();
            reading.Stop();
            var pending = new Queue<Task>();
            long rows = 0;
            var names = Enumerable.Range(0, features).Select(f => (RedisValue)$"f{f}").ToArray();
            while (true)
            {
                reading.Start();
                var more = reader.Read();
                reading.Stop();
                if (!more) break;
                var entries = new HashEntry[features + 1];
                entries[0] = new HashEntry("event_ts", reader.GetInt64(1));
                for (var f = 0; f < features; f++)
                    entries[f + 1] = new HashEntry(names[f], f % 2 == 0 ? reader.GetDouble(2 + f) : reader.GetInt64(2 + f));
                pending.Enqueue(db.HashSetAsync("base:{driver_id=" + reader.GetInt64(0).ToString(CultureInfo.InvariantCulture) + "}", entries));
                rows++;
                if (pending.Count >= 8_000) await pending.Dequeue();
            }
            while (pending.Count > 0) await pending.Dequeue();
            return (rows, clock.Elapsed, reading.Elapsed);
        }
    }

    internal static class ReadsBench
    {
        private const int WideFeatures = 50;

        public static async Task<int> RunAsync(Args options, string redis)
        {
            var seconds = options.Int("seconds", 5);
            var population = options.Int("entities", 200_000);
            var callers = (options.Get("callers", "1,8") ?? "1,8").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            var root = Directory.CreateTempSubdirectory("granary-bench-reads-").FullName;
            var project = "bench" + Guid.NewGuid().ToString("N")[..6];
            Directory.CreateDirectory(Path.Combine(root, "data"));
            // A few source rows only: apply checks the view's columns against its source; the entities' rows go straight online.
            BenchRepository.Sql($"""
                SET TimeZone = 'UTC';
                COPY (SELECT i + 1 AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS created,
                {BenchRepository.FeatureColumns(WideFeatures)}
                FROM range(10) t(i)) TO '{Path.Combine(root, "data", "drivers.parquet")}' (FORMAT parquet);
                """);
            await using var store = await BenchRepository.StartAsync(root, project, redis);
            await store.Grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(
                BenchRepository.View(project, "data/drivers.parquet", WideFeatures, ttl: null), ExpectedVersion: 0, Force: false));

            // Rows for every entity straight into the online store, as materialization would leave them.
            var online = store.Services.GetRequiredService<IOnlineStore>();
            var fill = Stopwatch.StartNew();
            var eventTime = DateTimeOffset.UtcNow.AddMinutes(-5);
            for (var first = 1; first <= population; first += 2_000)
            {
                var batch = new List<OnlineRow>(2_000);
                for (var d = first; d < first + 2_000 && d <= population; d++)
                {
                    var values = new Dictionary<string, object?>(WideFeatures, StringComparer.Ordinal);
                    for (var f = 0; f < WideFeatures; f++) values[$"f{f}"] = f % 2 == 0 ? d * 0.001 + f : (object)(long)(d + f);
                    batch.Add(new OnlineRow(Key(project, d), "driver_stats", eventTime, null, values));
                }
                await online.WriteAsync(batch);
            }
            Console.WriteLine($"wrote {population:N0} entities x {WideFeatures} features into Redis in {fill.Elapsed.TotalSeconds:F1} s");

            var snapshot = await store.Grains.GetGrain<IRegistryGrain>(project).GetSnapshotAsync();
            HistoricalRetrievalPlan Plan(int features) => HistoricalRetrievalPlanner.ForFeatures(snapshot,
                Enumerable.Range(0, features).Select(f => FeatureReference.Parse($"driver_stats:f{f}")).ToList(), fullFeatureNames: false,
                _ => throw new InvalidOperationException("no on-demand views"));
            var source = new EntityGrainFeatureSource(store.Grains);
            var narrow = Plan(5);
            var wide = Plan(WideFeatures);

            // Hot: a working set of entities whose grains are active (read once before timing).
            const int hotSet = 5_000;
            await ReadAsync(source, project, wide, Enumerable.Range(1, hotSet).ToArray());
            var cold = new ColdEntities(hotSet + 1, population);
            Console.WriteLine("scenario | callers | requests | reads/s (requests) | entity reads/s | p50 ms | p99 ms");
            foreach (var (name, plan, size) in new[] { ("1 entity x 5 features", narrow, 1), ("100 entities x 50 features", wide, 100) })
            {
                foreach (var c in callers)
                {
                    var hot = await TimeAsync(seconds, c, random => ReadAsync(source, project, plan,
                        Enumerable.Range(0, size).Select(_ => random.Next(1, hotSet + 1)).ToArray()));
                    Print($"{name}, hot", c, size, hot);
                    var coldRun = await TimeAsync(seconds, c, _ => cold.Take(size) is { } ids ? ReadAsync(source, project, plan, ids) : Task.FromResult(false));
                    Print($"{name}, cold", c, size, coldRun);
                }
            }
            Directory.Delete(root, recursive: true);
            return 0;
        }

        private static EntityKey Key(string project, long driver) => EntityKey.Create(project, "driver_id", driver.ToString(CultureInfo.InvariantCulture));

        private static async Task<bool> ReadAsync(EntityGrainFeatureSource source, string project, HistoricalRetrievalPlan plan, int[] drivers)
        {
            var request = new OnlineFeaturesRequest
            {
                Project = project, Plan = plan,
                Entities = new Dictionary<string, IReadOnlyList<object?>> { ["driver_id"] = drivers.Select(d => (object?)(long)d).ToArray() },
            };
            var response = await OnlineRetrieval.ExecuteAsync(request, source);
            if (response.Results[1].Statuses[0] != FeatureStatus.Present) throw new InvalidOperationException($"driver {drivers[0]}: {response.Results[1].Statuses[0]}");
            return true;
        }

        /// <summary>Runs <paramref name="callers"/> loops for the given seconds (after a short warm-up), each awaiting one request at a time; false from a request ends that loop.</summary>
        private static async Task<(long Requests, double Seconds, double P50, double P99)> TimeAsync(int seconds, int callers, Func<Random, Task<bool>> request)
        {
            var stop = Stopwatch.StartNew();
            var latencies = new List<double>[callers];
            var loops = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
            {
                var random = new Random(c + 1);
                var mine = latencies[c] = new List<double>(100_000);
                while (stop.Elapsed.TotalSeconds < seconds)
                {
                    var t = Stopwatch.GetTimestamp();
                    if (!await request(random)) break;
                    mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
            })).ToArray();
            await Task.WhenAll(loops);
            var wall = stop.Elapsed.TotalSeconds;
            var all = latencies.SelectMany(l => l).Order().ToArray();
            if (all.Length == 0) return (0, wall, double.NaN, double.NaN);
            return (all.Length, wall, all[(int)(all.Length * 0.50)], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]);
        }

        private static void Print(string scenario, int callers, int size, (long Requests, double Seconds, double P50, double P99) r)
            => Console.WriteLine($"{scenario} | {callers} | {r.Requests:N0} | {r.Requests / r.Seconds:N0} | {r.Requests * size / r.Seconds:N0} | {r.P50:F3} | {r.P99:F3}");

        /// <summary>Hands out entities never read before, so each request's grains activate and load from Redis.</summary>
        private sealed class ColdEntities(int first, int last)
        {
            private int _next = first;

            public int[]? Take(int count)
            {
                var start = Interlocked.Add(ref _next, count) - count;
                return start + count - 1 > last ? null : Enumerable.Range(start, count).ToArray();
            }
        }
    }
}
