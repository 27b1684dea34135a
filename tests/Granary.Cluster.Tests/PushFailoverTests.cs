using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Granary.Definitions;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Grains.Client;
using Granary.Hosting;
using Granary.Online;
using Granary.Online.Redis;
using Granary.Push;
using Granary.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Granary.Cluster.Tests;

/// <summary>
/// Three Granary.Silo processes on a redis-server of the test's own (AOF, fsync always) under push load from producers that
/// retry every unacknowledged push unchanged (same event ids), as at-least-once producers do. One silo is SIGKILLed and
/// Redis is SIGKILLed and restarted mid-load; afterwards every row of every acknowledged push must be in Redis.
/// </summary>
public sealed class PushFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Producers = 8, BatchesPerProducer = 16, RowsPerBatch = 250;
    private static readonly TimeSpan PerBatchLimit = TimeSpan.FromSeconds(90);

    private readonly TestDatabase _database = new();
    private readonly RedisServerProcess _redis = new(durable: true);
    private readonly string _clusterId = "push-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _project = "pf" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _repo = Directory.CreateTempSubdirectory("granary-push-failover-").FullName;
    private readonly List<SiloProcess> _silos = [];
    private IHost? _client;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_repo, "granary.yaml"),
            $"project: {_project}\nonline_store:\n  type: redis\n  connection_string: \"{_redis.Endpoint},connectTimeout=2000,asyncTimeout=5000,syncTimeout=5000\"\n");
        StatsRepository.WriteBatchSourceSchema(_repo);
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await _client.StopAsync(stop.Token); } catch (OperationCanceledException) { }
            _client.Dispose();
        }
        _silos.ForEach(s => s.Dispose());
        await _redis.DisposeAsync();
        _database.Dispose();
        Directory.Delete(_repo, recursive: true);
    }

    [Fact]
    public async Task No_acknowledged_push_is_lost_when_a_silo_is_SIGKILLed_and_redis_restarts_under_retrying_producers()
    {
        for (var i = 0; i < 3; i++)
        {
            // A short lease, so ids left pending by attempts on the killed silo lapse quickly; a pending wait below the
            // client's 2 s response timeout, so a waiting retry answers 503 (and is retried) rather than timing out.
            _silos.Add(SiloProcess.Start("--cluster-id", _clusterId, "--name", $"silo-{i}", "--postgres", _database.ConnectionString, "--repo", _repo,
                "Granary:Push:ClaimLease=00:00:05", "Granary:Push:PendingWait=00:00:01.500"));
        }
        await Eventually.WaitUntil(
            () => _silos.Any(s => s.HasExited) || _database.QueryOrEmpty<int>(
                $"SELECT status FROM granary_membership WHERE cluster_id = '{_clusterId}'").Count(s => s == (int)SiloStatus.Active) == 3,
            TimeSpan.FromSeconds(120), "three Active silo processes");
        Assert.False(_silos.Any(s => s.HasExited), "a silo exited at start:\n" + string.Join("\n---\n", _silos.Select(s => s.Output)));
        _client = await InProcessSilos.StartPostgresClientAsync(_clusterId, _database.ConnectionString);
        var grains = _client.Services.GetRequiredService<IGrainFactory>();
        await StatsRepository.ApplyAsync(grains, _project);

        // The test's own count: every row of every acknowledged push, driver -> trips.
        var acknowledged = new ConcurrentDictionary<long, long>();
        var acknowledgedBatches = 0;
        var failures = new ConcurrentBag<string>();
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var b = 0; b < BatchesPerProducer; b++)
            {
                var (batch, rows) = Batch(p, b);
                var clock = Stopwatch.StartNew();
                while (true)
                {
                    try
                    {
                        var result = await grains.GetGrain<IPushGrain>($"{_project}/stats_push").PushAsync(batch);
                        Assert.Equal(RowsPerBatch, result.RowsReceived);
                        foreach (var (driver, trips) in rows) acknowledged[driver] = trips;
                        Interlocked.Increment(ref acknowledgedBatches);
                        break;
                    }
                    catch (Exception e) when (clock.Elapsed < PerBatchLimit)
                    {
                        failures.Add(e.GetType().Name);
                    }
                }
            }
        })).ToArray();

        // Faults at points the load reached, not at times: a silo after a quarter of the batches, Redis after half.
        var total = Producers * BatchesPerProducer;
        await Eventually.WaitUntil(() => Volatile.Read(ref acknowledgedBatches) >= total / 4 || producers.Any(t => t.IsFaulted), TimeSpan.FromSeconds(120), "a quarter of the pushes");
        _silos[1].Kill();
        output.WriteLine($"silo 1 SIGKILLed after {Volatile.Read(ref acknowledgedBatches)} acknowledged pushes");
        await Eventually.WaitUntil(() => Volatile.Read(ref acknowledgedBatches) >= total / 2 || producers.Any(t => t.IsFaulted), TimeSpan.FromSeconds(120), "half of the pushes");
        await _redis.KillAsync();
        output.WriteLine($"Redis SIGKILLed after {Volatile.Read(ref acknowledgedBatches)} acknowledged pushes");
        await _redis.StartAsync();

        await Task.WhenAll(producers);
        output.WriteLine($"{acknowledgedBatches} pushes acknowledged ({acknowledged.Count} rows); failed attempts retried: " +
            string.Join(", ", failures.GroupBy(f => f).Select(g => $"{g.Key} x{g.Count()}")));
        Assert.Equal(total, acknowledgedBatches);

        // Read every acknowledged row straight from Redis.
        await using var store = await RedisOnlineStore.ConnectAsync(new RedisOnlineStoreOptions { Configuration = _redis.Endpoint });
        var drivers = acknowledged.Keys.Order().ToList();
        var read = await store.ReadAsync(drivers.Select(d => EntityKey.Create(_project, "driver_id", d.ToString(CultureInfo.InvariantCulture))).ToList(), ["stats"]);
        var lost = drivers.Where((d, i) => read[i, 0] is not { } row || !Equals(row.Values["trips"], acknowledged[d])).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {drivers.Count} acknowledged rows are not in Redis, e.g. drivers {string.Join(", ", lost.Take(5))}");
        // No silo other than the killed one went down, and the store errors crossed the grain boundary typed.
        Assert.DoesNotContain("CodecNotFoundException", failures);
    }

    /// <summary>Producer p's batch b: drivers unique to it, trips = a value unique to the row, event ids p-b-r.</summary>
    private static (PushRequest Batch, List<(long Driver, long Trips)> Rows) Batch(int producer, int batch)
    {
        var rows = new List<(long, long)>(RowsPerBatch);
        var cells = new object?[RowsPerBatch][];
        for (var r = 0; r < RowsPerBatch; r++)
        {
            var driver = ((long)producer * BatchesPerProducer + batch) * RowsPerBatch + r + 1;
            var trips = driver * 7;
            rows.Add((driver, trips));
            cells[r] = [driver.ToString(CultureInfo.InvariantCulture), "2024-01-01T01:00:00Z", trips.ToString(CultureInfo.InvariantCulture), $"{producer}-{batch}-{r}"];
        }
        return (new PushRequest(["driver_id", "event_timestamp", "trips", "event_id"], cells, PushMode.Online), rows);
    }
}
