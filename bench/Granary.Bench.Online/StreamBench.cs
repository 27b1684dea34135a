using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DuckDB.NET.Data;
using Granary.Cli;
using Granary.Definitions;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Grains.Streams;
using Granary.Online.Redis;
using Granary.Registry;
using Granary.Streams;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

/// <summary>
/// Stream ingestion: a redis-server of its own (no persistence), an embedded silo on it. Prints, from one run:
///   baseline      the same events written straight to Redis as pipelined HSETs, batch by batch (no stream, no Granary)
///   throughput    N events already in a stream, ingested by one worker (micro-batches of --batch) into the online store;
///                 events/s from the worker's start to the last acknowledged online write
///   latency       a producer adding events at --rate events/s for --seconds, each stamped with its event time; p50/p99
///                 of event time to the acknowledged push (written online through the entity grain, so served from then on)
/// </summary>
internal static class StreamBench
{
    public static async Task<int> RunAsync(int events, int batch, int entities, int rate, int seconds)
    {
        var port = FreePort();
        using var redisServer = Process.Start(new ProcessStartInfo("redis-server", ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            { RedirectStandardOutput = true, UseShellExecute = false })!;
        var endpoint = $"127.0.0.1:{port}";
        var root = Directory.CreateTempSubdirectory("granary-bench-stream-").FullName;
        try
        {
            using var redis = await ConnectWhenUpAsync(endpoint);
            var db = redis.GetDatabase();
            var project = "sb" + Guid.NewGuid().ToString("N")[..8];
            File.WriteAllText(Path.Combine(root, "granary.yaml"), $"project: {project}\nonline_store:\n  type: redis\n  connection_string: {endpoint}\n");
            var folder = Directory.CreateDirectory(Path.Combine(root, "data", "clicks")).FullName;
            using (var duck = new DuckDBConnection("DataSource=:memory:"))
            {
                duck.Open();
                using var command = duck.CreateCommand();
                command.CommandText = $"COPY (SELECT 0::BIGINT AS user_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0::BIGINT AS clicks) TO '{folder}/seed.parquet' (FORMAT parquet)";
                command.ExecuteNonQuery();
            }
            await using var store = await EmbeddedFeatureStore.StartAsync(root, minimumLogLevel: LogLevel.Error);
            var stream = new StreamDefinition
            {
                Type = "redis", Key = "clicks", Group = "granary", EventIdField = "id", EventTimeField = "ts",
                FieldMapping = new Dictionary<string, string> { ["ts"] = "event_timestamp", ["uid"] = "user_id", ["n"] = "clicks" },
                BatchSize = batch, BatchTime = TimeSpan.FromMilliseconds(20), To = "online",
            };
            await store.Grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(new RegistrySnapshot
            {
                Project = project,
                Entities = [new Entity { Name = "user", JoinKey = "user_id" }],
                DataSources =
                [
                    new FileSource { Name = "clicks_batch", Path = "data/clicks", TimestampField = "event_timestamp" },
                    new PushSource { Name = "clicks", BatchSource = "clicks_batch", Stream = stream },
                ],
                FeatureViews = [new FeatureView { Name = "user_clicks", Entities = ["user"], Source = "clicks", Features = [new Field("clicks", new(ScalarType.Int64))] }],
            }, ExpectedVersion: 0, Force: false));
            Console.WriteLine($"stream benchmark: {events:N0} events, micro-batches of {batch}, {entities:N0} entities; latency at {rate:N0} events/s for {seconds} s; " +
                              $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

            // Baseline: pipelined HSETs of the same number of events, batch by batch.
            var watch = Stopwatch.StartNew();
            for (var start = 0; start < events; start += batch)
            {
                var writes = new Task[Math.Min(batch, events - start)];
                for (var i = 0; i < writes.Length; i++)
                    writes[i] = db.HashSetAsync($"baseline:{(start + i) % entities}", [new HashEntry("clicks", start + i), new HashEntry("ts", start + i)]);
                await Task.WhenAll(writes);
            }
            Console.WriteLine($"  baseline    {events / watch.Elapsed.TotalSeconds,12:N0} events/s   pipelined HSET straight to Redis, batches of {batch}");

            // Throughput: the stream filled first, then one worker drains it.
            var epoch = DateTimeOffset.UtcNow;
            for (var start = 0; start < events; start += 1000)
                await Task.WhenAll(Enumerable.Range(start, Math.Min(1000, events - start)).Select(seq => db.StreamAddAsync("clicks", Event(seq, entities, epoch))));
            var recorder = new Recorder(new PushGrainStreamTarget(store.Grains, project, "clicks", PushMode.Online));
            await using (var source = await RedisStreamSource.ConnectAsync(endpoint, stream, "bench"))
            {
                var worker = new StreamIngestWorker("clicks", stream, source, recorder, "event_id", TimeProvider.System, NullLogger.Instance);
                using var stop = new CancellationTokenSource();
                watch.Restart();
                var running = worker.RunAsync(stop.Token);
                while (worker.Progress.Pushed < events && !running.IsCompleted) await Task.Delay(5);
                var elapsed = watch.Elapsed;
                Console.WriteLine($"  throughput  {events / elapsed.TotalSeconds,12:N0} events/s   stream -> acknowledged online write ({worker.Progress.Pushed:N0} pushed, {Environment.ProcessorCount} cores: {events / elapsed.TotalSeconds / Environment.ProcessorCount:N0} per core)");

                // Latency: a steady producer below capacity; event time is the moment of XADD.
                recorder.Latencies.Clear();
                var produced = 0;
                var total = rate * seconds;
                watch.Restart();
                while (produced < total)
                {
                    var due = (int)Math.Min(total, rate * watch.Elapsed.TotalSeconds) - produced;
                    if (due > 0)
                    {
                        await Task.WhenAll(Enumerable.Range(events + produced, due).Select(seq => db.StreamAddAsync("clicks", Event(seq, entities, null))));
                        produced += due;
                    }
                    await Task.Delay(2);
                }
                while (worker.Progress.Pushed < events + total && !running.IsCompleted) await Task.Delay(5);
                await stop.CancelAsync();
                try { await running; } catch (OperationCanceledException) { }
            }
            var sorted = recorder.Latencies.Order().ToArray();
            double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))] * 1000;
            Console.WriteLine($"  latency     p50 {At(0.50),8:0.0} ms   p99 {At(0.99),8:0.0} ms   event time -> acknowledged online write, {sorted.Length:N0} events at {rate:N0}/s");
            return 0;
        }
        finally
        {
            if (!redisServer.HasExited) redisServer.Kill();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Event seq: its id, event time (now, or epoch + seq ms for the pre-filled stream), user and click count.</summary>
    private static NameValueEntry[] Event(int seq, int entities, DateTimeOffset? epoch) =>
    [
        new("id", $"e{seq}"),
        new("ts", (epoch?.AddMilliseconds(seq) ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)),
        new("uid", (seq % entities).ToString(CultureInfo.InvariantCulture)),
        new("n", seq.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>Pushes through the push grain and records, per pushed row, seconds from its event time to the acknowledgement.</summary>
    private sealed class Recorder(IStreamPushTarget inner) : IStreamPushTarget
    {
        public List<double> Latencies { get; } = [];

        public async Task<StreamPushResult> PushAsync(string[] columns, object?[][] rows, CancellationToken cancellationToken)
        {
            var result = await inner.PushAsync(columns, rows, cancellationToken);
            var now = DateTimeOffset.UtcNow;
            var ts = Array.IndexOf(columns, "event_timestamp");
            lock (Latencies)
                foreach (var row in rows)
                    Latencies.Add((now - DateTimeOffset.Parse((string)row[ts]!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)).TotalSeconds);
            return result;
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectWhenUpAsync(string endpoint)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { return await ConnectionMultiplexer.ConnectAsync(endpoint); }
            catch (RedisConnectionException) when (attempt < 50) { await Task.Delay(100); }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
