using System.Globalization;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Online;
using Granary.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace Granary.Cluster.Tests;

/// <summary>
/// The grouped read (<see cref="GroupedFeatureSource"/>) against the per-entity read (<see cref="EntityGrainFeatureSource"/>)
/// and the test's own record of the rows written, through an Orleans client of three Granary silo processes (Redis online
/// store of the test's own): random entity sets with entities never written, rows fresh, past the SLA and past the ttl,
/// grains deactivated between reads so groups are read both from caches and through loading grains.
/// </summary>
public sealed class GroupedReadClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromHours(1), Sla = TimeSpan.FromMinutes(5);
    private static readonly int[] Ages = [2, 12, 62, 122];
    private static readonly OnlineViewSelection Selection = new(["stats"], [["trips"]]);
    private readonly TestDatabase _database = new();
    private readonly RedisServerProcess _redis = new(durable: false);
    private readonly string _clusterId = "grouped-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _project = "gr" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _repo = Directory.CreateTempSubdirectory("granary-grouped-cluster-").FullName;
    private readonly List<SiloProcess> _silos = [];
    private IHost? _client;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_repo, "granary.yaml"), $"project: {_project}\nonline_store:\n  type: redis\n  connection_string: \"{_redis.Endpoint}\"\n");
        StatsRepository.WriteBatchSourceSchema(_repo);
        // One silo at a time, each Active before the next joins (as the failover tests start them).
        for (var i = 0; i < 3; i++)
        {
            _silos.Add(SiloProcess.Start("--cluster-id", _clusterId, "--name", $"silo-{i}", "--postgres", _database.ConnectionString, "--repo", _repo));
            var active = i + 1;
            await Eventually.WaitUntil(
                () => _silos.Any(s => s.HasExited) || _database.QueryOrEmpty<int>(
                    $"SELECT status FROM granary_membership WHERE cluster_id = '{_clusterId}'").Count(s => s == (int)SiloStatus.Active) == active,
                TimeSpan.FromSeconds(120), $"{active} Active silo processes");
            Assert.False(_silos.Any(s => s.HasExited), "a silo exited at start:\n" + string.Join("\n", _silos.Select(s => s.Output)));
        }
        _client = await InProcessSilos.StartPostgresClientAsync(_clusterId, _database.ConnectionString,
            client => client.Services.Configure<Granary.Grains.Client.ClusterClientTimingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30)));
        var definitions = StatsRepository.Definitions(_project);
        definitions = definitions with { FeatureViews = [definitions.FeatureViews[0] with { Ttl = Ttl, FreshnessSla = Sla }] };
        await StatsRepository.ApplyAsync(_client.Grains(), _project, definitions);
    }

    public async Task DisposeAsync()
    {
        if (_client is not null) await InProcessSilos.StopAllAsync([_client]);
        _silos.ForEach(s => s.Dispose());
        await _redis.DisposeAsync();
        _database.Dispose();
        try { Directory.Delete(_repo, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Grouped_read_answers_as_the_per_entity_read_and_the_written_rows_across_three_silo_processes()
    {
        var grains = _client!.Grains();
        var random = new Random(20261207);
        var held = new Dictionary<int, (DateTimeOffset At, long? Trips)>();
        // Drivers 1-200, three in four written: 2 minutes old (fresh), 12 (past the SLA) or 62 and 122 (past the ttl too);
        // every age stays 3 minutes or more from a boundary for the test's length. Drivers 201-240 are never written.
        foreach (var d in Enumerable.Range(1, 200).Where(_ => random.Next(4) != 0))
        {
            var at = OnlineTime.Truncate(DateTimeOffset.UtcNow.AddMinutes(-Ages[random.Next(Ages.Length)]));
            long? trips = random.Next(8) == 0 ? null : random.Next(10_000);
            held[d] = (at, trips);
            await Eventually.WaitUntil(async () =>
            {
                await EntityGrains.Get(grains, Key(d).Canonical).WriteAsync(new EntityWrite([new EntityWriteRow("stats", OnlineTime.ToMicros(at), long.MinValue, ["trips"], [trips])]));
                return true;
            }, TimeSpan.FromSeconds(60), $"driver {d}'s row is written");
        }

        var perEntity = new EntityGrainFeatureSource(grains);
        var grouped = new GroupedFeatureSource(grains);
        for (var round = 0; round < 10; round++)
        {
            var drivers = Enumerable.Range(1, 240).OrderBy(_ => random.Next()).Take(random.Next(1, 120)).ToArray();
            var keys = drivers.Select(Key).ToList();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var a = await grouped.ReadAsync(keys, Selection, deadline.Token);
            var b = await perEntity.ReadAsync(keys, Selection, deadline.Token);
            var now = DateTimeOffset.UtcNow;
            for (var e = 0; e < drivers.Length; e++)
            {
                Assert.Equal(b[e], a[e]);
                var f = a[e][0];
                var where = $"round {round} driver {drivers[e]}: {f}";
                if (!held.TryGetValue(drivers[e], out var row))
                {
                    Assert.True(f is { Status: FeatureStatus.NotFound, Value: null, EventTimestamp: null, Stale: false }, where);
                    continue;
                }
                var age = now - row.At;
                var status = row.Trips is null ? FeatureStatus.NullValue : age > Ttl ? FeatureStatus.OutsideMaxAge : FeatureStatus.Present;
                Assert.True(f.Status == status && Equals(f.Value, row.Trips) && f.EventTimestamp == row.At && f.Stale == age > Sla && !f.ServedFromCache, $"{where}; expected {status} {row.Trips}");
            }
            // Every other round from fresh activations: the groups then load through their grains.
            if (round % 2 == 1) await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        }
    }

    private EntityKey Key(int driver) => EntityKey.Create(_project, "driver_id", driver.ToString(CultureInfo.InvariantCulture));
}
