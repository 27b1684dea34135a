using Xunit;
using Granary.Offline.DuckDb;
using Granary.Definitions;
using Granary.Offline;

namespace Granary.Offline.Tests;

/// <summary>
/// Randomized point-in-time test data: several views (TTL set and unset, created-timestamp ties, field mapping, naive and
/// zoned source times, an entity-less view, one view projected twice with join-key maps), an entity dataframe with
/// duplicate rows, unknown keys and mixed time zones, and an independent brute-force expected result (plain loops).
/// </summary>
public sealed class PointInTimeScenario
{
    private static readonly DateTimeOffset Origin = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public required RegistrySnapshot Registry { get; init; }
    public required Dictionary<string, TableData> SourceData { get; init; }
    public required IReadOnlyList<string> EntityColumns { get; init; }
    public required List<object?[]> EntityRows { get; init; }

    /// <summary>A grid time: minutes after the origin (grid times make TTL-boundary and tie rows common).</summary>
    public static DateTimeOffset At(int minutes) => Origin.AddMinutes(minutes);

    /// <summary>Builds a scenario; <paramref name="sourceFor"/> stores a source's data and returns its definition (file or PostgreSQL).</summary>
    public static PointInTimeScenario Generate(int seed, Func<string, TableData, DataSource> sourceFor, int entityRowCount = 150)
    {
        var random = new Random(seed);
        var data = new Dictionary<string, TableData>();

        // driver_hourly: TTL 10 min, created-timestamp ties, naive (UTC) times.
        var hourly = new TableData([("driver_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("created", ColumnKind.NaiveTimestamp), ("conv_rate", ColumnKind.Double), ("trips", ColumnKind.Int64)], []);
        FillRows(random, hourly, keys: [1, 2, 3, 4, 5], rows: 120, (r, key, minute, n) =>
            [key, At(minute).UtcDateTime, At(r.Next(0, 3)).UtcDateTime, Math.Round(r.NextDouble(), 4), (long)n]);
        data["driver_hourly_source"] = hourly;

        // driver_daily: no TTL, no created timestamp, zoned times written with assorted offsets.
        var daily = new TableData([("driver_id", ColumnKind.Int64), ("ts", ColumnKind.ZonedTimestamp), ("rating", ColumnKind.Double), ("tier", ColumnKind.String)], []);
        FillRows(random, daily, keys: [1, 2, 3, 6], rows: 40, (r, key, minute, n) =>
            [key, At(minute).ToOffset(TimeSpan.FromHours(r.Next(-8, 9))), r.Next(0, 50) / 10.0, $"tier-{n}"], unique: true);
        data["driver_daily_source"] = daily;

        // customer_profile: TTL 30 min, created timestamp, field mapping (stored names differ).
        var customer = new TableData([("cust", ColumnKind.Int64), ("event_timestamp", ColumnKind.ZonedTimestamp), ("created_at", ColumnKind.ZonedTimestamp), ("spend_raw", ColumnKind.Double)], []);
        FillRows(random, customer, keys: [10, 11, 12], rows: 60, (r, key, minute, n) =>
            [key, At(minute), At(r.Next(0, 2)), (double)n]);
        data["customer_source"] = customer;

        // location_stats: projected as origin and destination through join-key maps.
        var location = new TableData([("location_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("temperature", ColumnKind.Double)], []);
        FillRows(random, location, keys: [100, 101, 102], rows: 50, (r, key, minute, n) => [key, At(minute).UtcDateTime, n + 0.5], unique: true);
        data["location_source"] = location;

        // global_stats: entity-less, joined on time only; TTL 20 min.
        var global = new TableData([("event_timestamp", ColumnKind.ZonedTimestamp), ("created", ColumnKind.ZonedTimestamp), ("active_drivers", ColumnKind.Int64)], []);
        var globalSeen = new HashSet<(int, int)>();
        for (var n = 0; n < 25; n++)
        {
            var (minute, created) = (random.Next(0, 180), random.Next(0, 4));
            if (globalSeen.Add((minute, created))) global.Rows.Add([At(minute), At(created), (long)n]);
        }
        data["global_source"] = global;

        var sources = data.Select(kv => sourceFor(kv.Key, kv.Value)).ToList();
        DataSource Named(string name, string ts, string? created, Dictionary<string, string>? mapping = null)
        {
            var source = sources.Single(s => s.Name == name) with { TimestampField = ts, CreatedTimestampField = created };
            return mapping is null ? source : source with { FieldMapping = mapping };
        }
        var registry = new RegistrySnapshot
        {
            Project = "pit",
            Entities =
            [
                new Entity { Name = "driver", JoinKey = "driver_id" },
                new Entity { Name = "customer", JoinKey = "customer_id" },
                new Entity { Name = "location", JoinKey = "location_id" },
            ],
            DataSources =
            [
                Named("driver_hourly_source", "event_timestamp", "created"),
                Named("driver_daily_source", "ts", null),
                Named("customer_source", "event_timestamp", "created_at", new() { ["cust"] = "customer_id", ["spend_raw"] = "spend" }),
                Named("location_source", "event_timestamp", null),
                Named("global_source", "event_timestamp", "created"),
            ],
            FeatureViews =
            [
                View("driver_hourly", ["driver"], "driver_hourly_source", TimeSpan.FromMinutes(10), ("conv_rate", ScalarType.Float64), ("trips", ScalarType.Int64)),
                View("driver_daily", ["driver"], "driver_daily_source", null, ("rating", ScalarType.Float64), ("tier", ScalarType.String)),
                View("customer_profile", ["customer"], "customer_source", TimeSpan.FromMinutes(30), ("spend", ScalarType.Float64)),
                View("location_stats", ["location"], "location_source", TimeSpan.Zero, ("temperature", ScalarType.Float64)),
                View("global_stats", [], "global_source", TimeSpan.FromMinutes(20), ("active_drivers", ScalarType.Int64)),
            ],
            FeatureServices =
            [
                new FeatureService
                {
                    Name = "trip_model",
                    Projections =
                    [
                        new FeatureViewProjection { View = "driver_hourly" },
                        new FeatureViewProjection { View = "driver_daily", Features = ["rating"] },
                        new FeatureViewProjection { View = "customer_profile" },
                        new FeatureViewProjection { View = "location_stats", Alias = "origin", JoinKeyMap = new Dictionary<string, string> { ["location_id"] = "origin_id" } },
                        new FeatureViewProjection { View = "location_stats", Alias = "destination", JoinKeyMap = new Dictionary<string, string> { ["location_id"] = "destination_id" } },
                        new FeatureViewProjection { View = "global_stats" },
                    ],
                },
            ],
        };

        // Entity rows: known and unknown keys, grid times (TTL boundaries hit exactly), mixed naive/zoned times, duplicates.
        var entityRows = new List<object?[]>();
        for (var n = 0; n < entityRowCount; n++)
        {
            var at = At(random.Next(0, 200));
            object time = (n % 3) switch
            {
                0 => at.UtcDateTime,                                              // naive: UTC
                1 => at.ToOffset(TimeSpan.FromHours(random.Next(-10, 11))),       // zoned: converted
                _ => at,
            };
            entityRows.Add([(long)random.Next(1, 9), (long)random.Next(9, 14), (long)random.Next(99, 104), (long)random.Next(100, 104), time, $"row-{n}"]);
        }
        for (var d = 0; d < Math.Max(20, entityRowCount / 10); d++) entityRows.Insert(random.Next(entityRows.Count), (object?[])entityRows[random.Next(entityRows.Count)].Clone());

        return new PointInTimeScenario
        {
            Registry = registry,
            SourceData = data,
            EntityColumns = ["driver_id", "customer_id", "origin_id", "destination_id", "event_timestamp", "note"],
            EntityRows = entityRows,
        };
    }

    private static FeatureView View(string name, string[] entities, string source, TimeSpan? ttl, params (string Name, ScalarType Type)[] features) => new()
    {
        Name = name,
        Entities = entities,
        Source = source,
        Ttl = ttl,
        Features = features.Select(f => new Field(f.Name, new Definitions.ValueType(f.Type))).ToList(),
    };

    /// <summary>Adds rows on a minute grid; without <paramref name="unique"/>, (key, time) repeats on purpose so created timestamps decide.</summary>
    private static void FillRows(Random random, TableData table, long[] keys, int rows, Func<Random, long, int, int, object?[]> make, bool unique = false)
    {
        var seen = new HashSet<(long, int)>();
        var seenWithCreated = new HashSet<(long, int, long)>();
        var createdOrdinal = table.Columns.ToList().FindIndex(c => c.Name is "created" or "created_at");
        for (var n = 0; n < rows; n++)
        {
            var key = keys[random.Next(keys.Length)];
            var minute = random.Next(0, 180);
            if (unique && !seen.Add((key, minute))) continue;
            var row = make(random, key, minute, n);
            // Full ties (same key, event time and created time) have no defined winner; keep them out of the data.
            if (createdOrdinal >= 0 && !seenWithCreated.Add((key, minute, Instant(row[createdOrdinal]!).UtcTicks))) continue;
            table.Rows.Add(row);
        }
    }

    /// <summary>A stored time as an instant: naive values are UTC.</summary>
    public static DateTimeOffset Instant(object value) => value switch
    {
        DateTimeOffset t => t.ToUniversalTime(),
        DateTime t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
        _ => throw new InvalidCastException($"{value.GetType().Name} is not a time"),
    };

    /// <summary>The feature-reference request every store's property test runs: several views, TTL set and unset, an entity-less view.</summary>
    public HistoricalRetrievalPlan FeatureReferencePlan() => HistoricalRetrievalPlanner.ForFeatures(Registry,
        new[] { "driver_hourly:conv_rate", "driver_hourly:trips", "driver_daily:rating", "driver_daily:tier", "customer_profile:spend", "global_stats:active_drivers" }
            .Select(FeatureReference.Parse).ToList(), fullFeatureNames: false);

    /// <summary>The feature-service request: one view projected twice under aliases with join-key maps, full feature names.</summary>
    public HistoricalRetrievalPlan ServicePlan() => HistoricalRetrievalPlanner.ForService(Registry, "trip_model", fullFeatureNames: true);

    /// <summary>
    /// Runs <paramref name="plan"/> in <paramref name="store"/> to <paramref name="output"/> (Parquet) and compares the file row by
    /// row with the brute-force reference; also checks the data exercised the rules (some matches, some NULLs).
    /// </summary>
    public async Task AssertStoreMatchesReferenceAsync(IOfflineStore store, HistoricalRetrievalPlan plan, string output, EntityDataFrame? entities = null)
    {
        var result = await store.RunPointInTimeJoinAsync(new HistoricalRetrieval
        {
            Entities = entities ?? EntityDataFrame.FromRows(EntityColumns, EntityRows),
            Plan = plan,
            OutputPath = output,
        });
        Assert.Equal(EntityRows.Count, result.EntityRows);
        Assert.Equal(EntityRows.Count, result.OutputRows);

        using var reader = new DuckDbOfflineStore();
        using var connection = reader.Connect();
        var (columns, rows) = TableData.ReadFile(connection, output);
        ResultAssert.SameRows(EntityColumns.Concat(plan.OutputColumns).ToList(), Expected(plan), columns, rows);
        Assert.True(rows.Count(r => r[^1] is not null) > 5, "too few matches to be meaningful");
        Assert.Contains(rows, r => r.Skip(EntityColumns.Count).Any(v => v is null));
    }

    /// <summary>
    /// Writes the entity rows as CSV, each time as text: <paramref name="zoned"/> says, per row index, whether it carries an
    /// offset (a random one, never +00:00, so a dropped offset moves the instant) or is written naive as its UTC clock reading.
    /// </summary>
    public void WriteEntityCsv(string path, Func<int, bool> zoned, int seed)
    {
        var random = new Random(seed);
        var entityTs = EntityColumns.ToList().IndexOf("event_timestamp");
        var offsets = new[] { -11, -8, -5, -3, 1, 2, 5, 9, 12, 14 }.Select(h => TimeSpan.FromHours(h)).Append(TimeSpan.FromMinutes(330)).Append(TimeSpan.FromMinutes(-210)).ToArray();
        var text = new System.Text.StringBuilder(string.Join(",", EntityColumns)).Append('\n');
        for (var r = 0; r < EntityRows.Count; r++)
        {
            var row = EntityRows[r];
            for (var c = 0; c < row.Length; c++)
            {
                if (c > 0) text.Append(',');
                var value = row[c];
                if (c == entityTs)
                {
                    var instant = Instant(value!);
                    text.Append(zoned(r)
                        ? instant.ToOffset(offsets[random.Next(offsets.Length)]).ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture)
                        : instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    text.Append(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            text.Append('\n');
        }
        File.WriteAllText(path, text.ToString());
    }

    /// <summary>
    /// The brute-force expected output for a plan: for every entity row (order and duplicates kept) and view, scan all
    /// source rows with equal keys and T - ttl &lt;= ts &lt;= T, keep the max (ts, created); NULL when none.
    /// </summary>
    public List<object?[]> Expected(HistoricalRetrievalPlan plan)
    {
        var expected = new List<object?[]>();
        var entityColumns = EntityColumns.ToList();
        var entityTs = entityColumns.IndexOf("event_timestamp");
        foreach (var entityRow in EntityRows)
        {
            var t = Instant(entityRow[entityTs]!);
            var output = new List<object?>(entityRow);
            var byColumn = new Dictionary<string, object?>();
            foreach (var view in plan.Views)
            {
                var sourceDefinition = Registry.FindDataSource(view.View.Source)!;
                var table = SourceData[sourceDefinition.Name];
                var tsOrdinal = table.Ordinal(view.TimestampColumn);
                var createdOrdinal = view.CreatedTimestampColumn is null ? -1 : table.Ordinal(view.CreatedTimestampColumn);
                object?[]? winner = null;
                foreach (var candidate in table.Rows)
                {
                    var matches = true;
                    foreach (var key in view.JoinKeys)
                    {
                        var entityValue = entityRow[entityColumns.IndexOf(key.EntityColumn)];
                        if (!Equals(candidate[table.Ordinal(key.SourceColumn)], entityValue)) matches = false;
                    }
                    if (!matches) continue;
                    var ts = Instant(candidate[tsOrdinal]!);
                    if (ts > t) continue;
                    if (view.Ttl is { } ttl && ts < t - ttl) continue;
                    if (winner is null) { winner = candidate; continue; }
                    var best = Instant(winner[tsOrdinal]!);
                    if (ts > best || (ts == best && createdOrdinal >= 0 && Instant(candidate[createdOrdinal]!) > Instant(winner[createdOrdinal]!)))
                        winner = candidate;
                }
                foreach (var feature in view.Features)
                    byColumn[feature.ColumnName] = winner?[table.Ordinal(feature.SourceColumn)];
            }
            foreach (var column in plan.OutputColumns) output.Add(byColumn[column]);
            expected.Add(output.ToArray());
        }
        return expected;
    }
}
