using System.Globalization;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Offline;
using Granary.Online;
using Granary.Serving;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace Granary.Grains.Tests;

/// <summary>
/// The grouped read (<see cref="GroupedFeatureSource"/>: one call per silo, caches read in place) against the per-entity
/// read (<see cref="EntityGrainFeatureSource"/>) and against the test's own record of what was written, on random data in
/// a three-silo cluster: random entity sets (some never written), rows written through the grains and past them as a push
/// does, ttl and SLA crossed by the clock, caches invalidated and grains deactivated between reads.
/// </summary>
public sealed class GroupedReadTests() : SteppedClockClusterTest("grouped")
{
    private static readonly OnlineViewSelection Selection = new(["driver_stats"], [["conv_rate", "trips"]]);

    [Theory]
    [InlineData(20261207)]
    [InlineData(31)]
    public async Task Grouped_read_answers_as_the_per_entity_read_and_the_written_rows(int seed)
    {
        var random = new Random(seed);
        const int written = 150; // drivers 151-180 are never written
        var held = new Dictionary<int, (DateTimeOffset At, double? Rate, long? Trips)>();
        var perEntity = new EntityGrainFeatureSource(Cluster.Grains);
        // Through the client (its gateway silo groups), and from each silo (that silo groups).
        var grouped = new[] { Cluster.Grains }.Concat(Cluster.Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<IGrainFactory>()))
            .Select(g => new GroupedFeatureSource(g)).ToArray();

        for (var d = 1; d <= written; d++)
            if (random.Next(4) != 0) await WriteAsync(random, held, [d], pastTheGrains: random.Next(2) == 0);

        for (var round = 0; round < 12; round++)
        {
            var drivers = Enumerable.Range(1, 180).OrderBy(_ => random.Next()).Take(random.Next(1, 90)).ToArray();
            var keys = drivers.Select(Key).ToList();
            // Either read first: the first one activates and loads the grains not active yet.
            var source = grouped[random.Next(grouped.Length)];
            var (a, b) = random.Next(2) == 0
                ? (await source.ReadAsync(keys, Selection, CancellationToken.None), await perEntity.ReadAsync(keys, Selection, CancellationToken.None))
                : (await perEntity.ReadAsync(keys, Selection, CancellationToken.None), await source.ReadAsync(keys, Selection, CancellationToken.None));
            var now = Clock.GetUtcNow();
            for (var e = 0; e < drivers.Length; e++)
            {
                Assert.Equal(b[e], a[e]);
                Expect(held.TryGetValue(drivers[e], out var row) ? row : null, now, a[e], $"seed {seed} round {round} driver {drivers[e]}");
            }

            // The whole retrieval (the gateway's path: the grouped source's flat arrays straight into columns), entity rows
            // repeated and in random order, against the same with the per-entity source.
            var rows = drivers.Concat(drivers.Take(random.Next(drivers.Length + 1))).OrderBy(_ => random.Next()).ToArray();
            var columns = await RetrieveAsync(source, rows);
            var reference = await RetrieveAsync(perEntity, rows);
            Assert.Equal(reference.FeatureNames, columns.FeatureNames);
            for (var c = 0; c < reference.Results.Count; c++)
            {
                Assert.Equal(reference.Results[c].Values, columns.Results[c].Values);
                Assert.Equal(reference.Results[c].Statuses, columns.Results[c].Statuses);
                Assert.Equal(reference.Results[c].EventTimestamps, columns.Results[c].EventTimestamps);
                Assert.Equal(reference.Results[c].ServedFromCache, columns.Results[c].ServedFromCache);
            }

            // Between reads, one of: the clock moves (by tens of minutes, as rows are written at 2, 12, 22... minutes old, so
            // every age stays 2 minutes or more away from the 5-minute SLA and the 1-hour ttl), rows
            // written past the grains (the push hand-off) or through them, the view invalidated, every grain deactivated.
            switch (random.Next(5))
            {
                case 0: Clock.Advance(TimeSpan.FromMinutes(10 * random.Next(1, 5))); break;
                case 1: await WriteAsync(random, held, Enumerable.Range(1, written).OrderBy(_ => random.Next()).Take(20).ToArray(), pastTheGrains: true); break;
                case 2: await WriteAsync(random, held, Enumerable.Range(1, written).OrderBy(_ => random.Next()).Take(5).ToArray(), pastTheGrains: false); break;
                case 3:
                    foreach (var silo in Cluster.Cluster.Silos)
                        await Cluster.Grains.GetGrain<ISiloOnlineCacheGrain>(silo.SiloAddress.ToParsableString()).InvalidateAsync(Project, ["driver_stats"]);
                    break;
                default: await Cluster.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero); break;
            }
        }
    }

    private async Task<OnlineFeaturesResponse> RetrieveAsync(IOnlineFeatureSource source, int[] drivers)
    {
        var snapshot = await Cluster.Grains.GetGrain<IRegistryGrain>(Project).GetSnapshotAsync();
        var plan = HistoricalRetrievalPlanner.ForFeatures(snapshot, [FeatureReference.Parse("driver_stats:conv_rate"), FeatureReference.Parse("driver_stats:trips")],
            fullFeatureNames: false, _ => throw new InvalidOperationException("no on-demand views here"));
        return await OnlineRetrieval.ExecuteAsync(new OnlineFeaturesRequest
        {
            Project = Project, Plan = plan,
            Entities = new Dictionary<string, IReadOnlyList<object?>> { ["driver_id"] = drivers.Select(d => (object?)(long)d).ToList() },
        }, source);
    }

    [Fact]
    public async Task Entity_grains_live_on_the_silo_their_key_hashes_to()
    {
        var keys = Enumerable.Range(1, 60).Select(Key).ToList();
        await new GroupedFeatureSource(Cluster.Grains).ReadAsync(keys, Selection, CancellationToken.None);
        var silos = Cluster.Cluster.Silos.Select(s => s.SiloAddress).ToArray();
        var owners = keys.Select(k => EntityOwners.Owner(k.Canonical, silos)).ToArray();
        Assert.Equal(3, owners.Distinct().Count()); // 60 keys spread over all three silos
        for (var e = 0; e < keys.Count; e++)
        {
            foreach (var silo in Cluster.Cluster.Silos)
            {
                var active = silo.ServiceProvider.GetRequiredService<ActiveEntityCaches>().TryGetCached(keys[e].Canonical, out _);
                Assert.True(active == silo.SiloAddress.Equals(owners[e]), $"{keys[e].Canonical}: owner {owners[e]}, active on {silo.SiloAddress}: {active}");
            }
        }
    }

    /// <summary>The status rules (see <see cref="OnlineReadRules"/>) applied to the row the test knows is held.</summary>
    private static void Expect((DateTimeOffset At, double? Rate, long? Trips)? row, DateTimeOffset now, FeatureReadResult[] read, string where)
    {
        if (row is not { } r)
        {
            Assert.All(read, f => Assert.True(f is { Status: FeatureStatus.NotFound, Value: null, EventTimestamp: null, Stale: false }, $"{where}: {f}"));
            return;
        }
        var age = now - r.At;
        object?[] values = [r.Rate, r.Trips];
        for (var f = 0; f < 2; f++)
        {
            var status = values[f] is null ? FeatureStatus.NullValue : age > ResilienceRepository.Ttl ? FeatureStatus.OutsideMaxAge : FeatureStatus.Present;
            Assert.True(read[f].Status == status && Equals(read[f].Value, values[f]) && read[f].EventTimestamp == r.At && read[f].Stale == age > ResilienceRepository.Sla
                        && !read[f].ServedFromCache, $"{where}: expected {status} {values[f]} at {r.At:O} (age {age}), read {read[f]}");
        }
    }

    /// <summary>
    /// Writes a row for each driver at a random age of 2, 12, ... 112 minutes (newest-wins, so an older one is ignored): through its
    /// entity grain, or past the grains as a push does (the store, then every silo's hand-off to its active grains).
    /// </summary>
    private async Task WriteAsync(Random random, Dictionary<int, (DateTimeOffset At, double? Rate, long? Trips)> held, int[] drivers, bool pastTheGrains)
    {
        var rows = new List<OnlineRow>();
        foreach (var d in drivers)
        {
            var at = OnlineTime.Truncate(Clock.GetUtcNow().AddMinutes(-2 - 10 * random.Next(12)));
            if (held.TryGetValue(d, out var h) && h.At == at) continue; // one version per event time
            double? rate = random.Next(6) == 0 ? null : Math.Round(random.NextDouble(), 4);
            long? trips = random.Next(6) == 0 ? null : random.Next(1000);
            if (!held.TryGetValue(d, out h) || at > h.At) held[d] = (at, rate, trips);
            var row = new OnlineRow(Key(d), "driver_stats", at, null, new Dictionary<string, object?> { ["conv_rate"] = rate, ["trips"] = trips });
            if (pastTheGrains) rows.Add(row);
            else await EntityGrains.Get(Cluster.Grains, Key(d).Canonical).WriteAsync(new EntityWrite([EntityWriteRow.From(row)]));
        }
        if (rows.Count == 0) return;
        var outcomes = await Cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<IOnlineStore>().WriteAsync(rows);
        var handOff = new WrittenRows(Project, rows.Select(r => r.Entity.Canonical).ToArray(), rows.Select(EntityWriteRow.From).ToArray(),
            outcomes.Select(o => o == OnlineWriteOutcome.Applied).ToArray());
        foreach (var silo in Cluster.Cluster.Silos)
            await Cluster.Grains.GetGrain<ISiloOnlineCacheGrain>(silo.SiloAddress.ToParsableString()).RowsWrittenAsync(handOff);
    }

    private EntityKey Key(int driver) => EntityKey.Create(Project, "driver_id", driver.ToString(CultureInfo.InvariantCulture));
}
