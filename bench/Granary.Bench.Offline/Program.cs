// Offline benchmark. Usage (from the repository root):
//   dotnet run -c Release --project bench/Granary.Bench.Offline -- [--entities N] [--rows N] [--keys N] [--cache DIR] [--memory-limit 4GB] [--rounds 2] [--print-sql]
//   dotnet run -c Release --project bench/Granary.Bench.Offline -- --sql FILE   (times one statement file)
// Generates (once, cached) an entity dataframe and three feature views as Parquet, then times Granary's join and a
// hand-written DuckDB ASOF query over the same files, printing wall time, rows/s, peak working set and the ratio.
using System.Diagnostics;
using System.Globalization;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;

if (args.Length == 2 && args[0] == "--sql")
{
    // Times one statement in the benchmark's settings (for comparing SQL formulations by hand).
    using var sqlStore = new DuckDbOfflineStore(new DuckDbEngineOptions { MemoryLimit = "4GB" });
    using var sqlConnection = sqlStore.Connect();
    var sqlClock = Stopwatch.StartNew();
    var sqlRows = sqlConnection.ExecuteWithProgress(File.Exists(args[1]) ? File.ReadAllText(args[1]) : args[1], progress: null);
    Console.WriteLine($"{sqlClock.Elapsed.TotalSeconds:F2} s, {sqlRows} rows");
    return;
}

var options = BenchOptions.Parse(args);
Console.WriteLine($"Granary offline benchmark: {options.Entities:N0} entity rows, 3 views x {options.Rows:N0} rows, {options.Keys:N0} keys, memory_limit {options.MemoryLimit}, cache {options.Cache}");
var storeOptions = new DuckDbEngineOptions { RepositoryPath = options.Cache, MemoryLimit = options.MemoryLimit, TempDirectory = Path.Combine(options.Cache, "spill") };
using var store = new DuckDbOfflineStore(storeOptions);
using (var versionConnection = store.Connect())
    Console.WriteLine($"DuckDB {versionConnection.QueryScalar("SELECT version()")} (DuckDB.NET {typeof(DuckDB.NET.Data.DuckDBConnection).Assembly.GetName().Version}), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
BenchData.Generate(store, options);

var registry = BenchData.Registry();
var plan = HistoricalRetrievalPlanner.ForFeatures(registry,
    new[] { "driver_hourly:conv_rate", "driver_hourly:acc_rate", "driver_daily:rating", "driver_daily:trips", "driver_weekly:tenure_days", "driver_weekly:score" }
        .Select(FeatureReference.Parse).ToList(), fullFeatureNames: false);
var entitiesPath = Path.Combine(options.Cache, "entities.parquet");
var granaryOut = Path.Combine(options.Cache, "out-granary.parquet");
var handOut = Path.Combine(options.Cache, "out-hand.parquet");

// What a user would write by hand for the same three lookups: plain ASOF joins, no created-timestamp tie-break,
// no TTL check and no output ordering (Granary does all three).
var handSql = $"""
    COPY (
        SELECT e.*, h.conv_rate, h.acc_rate, d.rating, d.trips, w.tenure_days, w.score
        FROM read_parquet('{entitiesPath}') e
        ASOF LEFT JOIN read_parquet('{Path.Combine(options.Cache, "driver_hourly.parquet")}') h ON e.driver_id = h.driver_id AND e.event_timestamp >= h.event_timestamp
        ASOF LEFT JOIN read_parquet('{Path.Combine(options.Cache, "driver_daily.parquet")}') d ON e.driver_id = d.driver_id AND e.event_timestamp >= d.event_timestamp
        ASOF LEFT JOIN read_parquet('{Path.Combine(options.Cache, "driver_weekly.parquet")}') w ON e.driver_id = w.driver_id AND e.event_timestamp >= w.event_timestamp
    ) TO '{handOut}' (FORMAT parquet, COMPRESSION snappy)
    """;
if (args.Contains("--print-sql"))
{
    // The SQL Granary runs for the benchmark's retrieval (after loading the entity table), for profiling by hand.
    Console.WriteLine(store.ExplainPointInTimeJoin(new HistoricalRetrieval { Entities = EntityDataFrame.FromFile(entitiesPath), Plan = plan, OutputPath = granaryOut }));
    Console.WriteLine("-- hand-written:");
    Console.WriteLine(handSql);
    return;
}
long RunGranary() => store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = EntityDataFrame.FromFile(entitiesPath), Plan = plan, OutputPath = granaryOut }).GetAwaiter().GetResult().OutputRows;
long RunHand()
{
    using var connection = store.Connect();
    return connection.ExecuteWithProgress(handSql, progress: null);
}

// Rounds alternate which query goes first, so neither always gets the other's warm page cache; each query's best
// round is compared.
var granaryRuns = new List<(TimeSpan Wall, TimeSpan Cpu, long Rows)>();
var handRuns = new List<(TimeSpan Wall, TimeSpan Cpu, long Rows)>();
long granaryPeak = 0;
for (var round = 1; round <= options.Rounds; round++)
{
    foreach (var granaryTurn in round % 2 == 1 ? new[] { true, false } : new[] { false, true })
    {
        if (granaryTurn)
        {
            var m = Measure(RunGranary);
            granaryRuns.Add(m);
            granaryPeak = Math.Max(granaryPeak, Process.GetCurrentProcess().PeakWorkingSet64);
            Report($"round {round}: Granary point-in-time join", m);
        }
        else
        {
            var m = Measure(RunHand);
            handRuns.Add(m);
            Report($"round {round}: hand-written DuckDB ASOF query", m);
        }
    }
}
var granary = granaryRuns.MinBy(m => m.Wall);
var hand = handRuns.MinBy(m => m.Wall);
Report("best Granary point-in-time join", granary);
Report("best hand-written DuckDB ASOF query", hand);
Console.WriteLine($"  peak working set (whole process; first reading after a Granary join): {granaryPeak / (1024.0 * 1024):N0} MiB");
Console.WriteLine($"Ratio Granary / hand-written (best of {options.Rounds} each): wall {granary.Wall.TotalSeconds / hand.Wall.TotalSeconds:F2}x, CPU {granary.Cpu.TotalSeconds / hand.Cpu.TotalSeconds:F2}x");

// Wall time, plus the process's CPU time (all DuckDB threads): on a shared machine CPU time is the steadier measure.
static (TimeSpan Wall, TimeSpan Cpu, long Rows) Measure(Func<long> run)
{
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var rows = run();
    return (clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpuBefore, rows);
}

static void Report(string name, (TimeSpan Wall, TimeSpan Cpu, long Rows) m) =>
    Console.WriteLine($"{name}: wall {m.Wall.TotalSeconds:F2} s, CPU {m.Cpu.TotalSeconds:F2} s, {m.Rows:N0} rows, {m.Rows / m.Wall.TotalSeconds:N0} rows/s");

internal sealed record BenchOptions(long Entities, long Rows, long Keys, string Cache, string MemoryLimit, int Rounds)
{
    public static BenchOptions Parse(string[] args)
    {
        var entities = 1_000_000L;
        var rows = 10_000_000L;
        var keys = 100_000L;
        var cache = Path.Combine(Path.GetTempPath(), "granary-bench-offline");
        var memory = "4GB";
        var rounds = 2;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--entities": entities = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rows": rows = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--keys": keys = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--cache": cache = Path.GetFullPath(Next()); break;
                case "--memory-limit": memory = Next(); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--print-sql": break;
                default: throw new ArgumentException($"unknown option '{args[i]}'; options: --entities N --rows N --keys N --cache DIR --memory-limit 4GB --rounds 2");
            }
        }
        return new BenchOptions(entities, rows, keys, Path.Combine(cache, $"e{entities}-r{rows}-k{keys}"), memory, rounds);
    }
}

internal static class BenchData
{
    private static readonly string[] Views = ["driver_hourly", "driver_daily", "driver_weekly"];

    /// <summary>Writes the Parquet files unless a previous run left them (a marker file records completion).</summary>
    public static void Generate(DuckDbOfflineStore store, BenchOptions options)
    {
        var marker = Path.Combine(options.Cache, "complete");
        if (File.Exists(marker))
        {
            Console.WriteLine("data: cached");
            return;
        }
        Directory.CreateDirectory(options.Cache);
        var clock = Stopwatch.StartNew();
        using var connection = store.Connect();
        // 30 days of history; keys spread uniformly; created timestamps tie on event time for ~1% of hourly rows.
        var span = 30L * 24 * 3600;
        var n = options.Rows.ToString(CultureInfo.InvariantCulture);
        var k = options.Keys.ToString(CultureInfo.InvariantCulture);
        connection.Execute($"""
            COPY (SELECT (hash(i) % {k})::BIGINT AS driver_id,
                         TIMESTAMP '2024-01-01' + to_seconds(((hash(i * 7) % {span}) // 60 * 60)::BIGINT) AS event_timestamp,
                         TIMESTAMP '2024-01-01' + to_seconds((i % 1000)::BIGINT) AS created,
                         (hash(i * 13) % 1000) / 1000.0 AS conv_rate, (hash(i * 17) % 1000) / 1000.0 AS acc_rate
                  FROM range({n}) t(i)) TO '{Path.Combine(options.Cache, "driver_hourly.parquet")}' (FORMAT parquet, COMPRESSION snappy);
            COPY (SELECT (hash(i + 1) % {k})::BIGINT AS driver_id,
                         TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((hash(i * 3) % {span})::BIGINT) AS event_timestamp,
                         (hash(i * 5) % 50) / 10.0 AS rating, (hash(i * 11) % 100)::BIGINT AS trips
                  FROM range({n}) t(i)) TO '{Path.Combine(options.Cache, "driver_daily.parquet")}' (FORMAT parquet, COMPRESSION snappy);
            COPY (SELECT (hash(i + 2) % {k})::BIGINT AS driver_id,
                         TIMESTAMP '2024-01-01' + to_seconds((hash(i * 19) % {span})::BIGINT) AS event_timestamp,
                         (hash(i * 23) % 3650)::BIGINT AS tenure_days, (hash(i * 29) % 100000) / 100.0 AS score
                  FROM range({n}) t(i)) TO '{Path.Combine(options.Cache, "driver_weekly.parquet")}' (FORMAT parquet, COMPRESSION snappy);
            COPY (SELECT (hash(i * 31) % ({k} + {k} // 10))::BIGINT AS driver_id,
                         TIMESTAMP '2024-01-02' + to_seconds((hash(i * 37) % ({span} - 86400))::BIGINT) AS event_timestamp,
                         i AS request_id
                  FROM range({options.Entities.ToString(CultureInfo.InvariantCulture)}) t(i)) TO '{Path.Combine(options.Cache, "entities.parquet")}' (FORMAT parquet, COMPRESSION snappy);
            """);
        File.WriteAllText(marker, DateTimeOffset.UtcNow.ToString("O"));
        Console.WriteLine($"data: generated in {clock.Elapsed.TotalSeconds:F1} s");
    }

    public static RegistrySnapshot Registry()
    {
        static FeatureView View(string name, TimeSpan? ttl, params string[] features) => new()
        {
            Name = name, Entities = ["driver"], Source = name + "_source", Ttl = ttl,
            Features = features.Select(f => new Field(f, new Granary.Definitions.ValueType(f is "trips" or "tenure_days" ? ScalarType.Int64 : ScalarType.Float64))).ToList(),
        };
        return new RegistrySnapshot
        {
            Project = "bench",
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = Views.Select(v => (DataSource)new FileSource
            {
                Name = v + "_source", Path = v + ".parquet", TimestampField = "event_timestamp",
                CreatedTimestampField = v == "driver_hourly" ? "created" : null,
            }).ToList(),
            FeatureViews =
            [
                View("driver_hourly", TimeSpan.FromDays(2), "conv_rate", "acc_rate"),
                View("driver_daily", null, "rating", "trips"),
                View("driver_weekly", TimeSpan.FromDays(7), "tenure_days", "score"),
            ],
        };
    }
}
