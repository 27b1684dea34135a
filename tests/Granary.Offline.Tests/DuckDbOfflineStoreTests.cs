using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>One test per point-in-time rule and per bad-input error, on small hand-made data.</summary>
public sealed class DuckDbOfflineStoreTests : IDisposable
{
    private static readonly DateTime T0 = new(2024, 3, 1, 12, 0, 0);
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-offline-").FullName;
    private readonly DuckDbOfflineStore _store;

    public DuckDbOfflineStoreTests() =>
        _store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 });

    private static readonly Entity Driver = new() { Name = "driver", JoinKey = "driver_id" };

    /// <summary>A registry with one view "stats" (features value, label) over the given rows (driver_id, event_timestamp, created, value, label).</summary>
    private RegistrySnapshot Registry(IEnumerable<object?[]> rows, TimeSpan? ttl = null, string viewName = "stats", RegistrySnapshot? extend = null)
    {
        var data = new TableData([("driver_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("created", ColumnKind.NaiveTimestamp), ("value", ColumnKind.Double), ("label", ColumnKind.String)], rows.ToList());
        using (var connection = _store.Connect()) data.WriteParquet(connection, Path.Combine(_folder, viewName + ".parquet"));
        var source = new FileSource { Name = viewName + "_source", Path = viewName + ".parquet", TimestampField = "event_timestamp", CreatedTimestampField = "created" };
        var view = new FeatureView
        {
            Name = viewName, Entities = ["driver"], Source = source.Name, Ttl = ttl,
            Features = [new Field("value", new(ScalarType.Float64)), new Field("label", new(ScalarType.String))],
        };
        var baseline = extend ?? new RegistrySnapshot { Project = "test", Entities = [Driver] };
        return baseline with { DataSources = [.. baseline.DataSources, source], FeatureViews = [.. baseline.FeatureViews, view] };
    }

    private async Task<(List<string> Columns, List<object?[]> Rows)> Join(RegistrySnapshot registry, EntityDataFrame entities, HistoricalRetrievalPlan? plan = null, string output = "out.parquet")
    {
        plan ??= HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value")], fullFeatureNames: false);
        var path = Path.Combine(_folder, output);
        await _store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = entities, Plan = plan, OutputPath = path });
        using var connection = _store.Connect();
        return TableData.ReadFile(connection, path);
    }

    private static EntityDataFrame Entities(params (long Driver, object Time)[] rows) =>
        EntityDataFrame.FromRows(["driver_id", "event_timestamp"], rows.Select(r => (IReadOnlyList<object?>)[r.Driver, r.Time]).ToList());

    private static object?[] Row(long driver, DateTime ts, double value, DateTime? created = null, string label = "x") => [driver, ts, created ?? ts, value, label];

    [Fact]
    public async Task Ttl_bounds_are_inclusive_at_both_ends()
    {
        var ttl = TimeSpan.FromHours(1);
        var registry = Registry(
        [
            Row(1, T0.AddHours(-1), 1.0),                       // exactly T - ttl: inside
            Row(2, T0.AddHours(-1).AddTicks(-10), 2.0),         // one microsecond before T - ttl: outside
            Row(3, T0, 3.0),                                    // exactly T: inside
            Row(4, T0.AddTicks(10), 4.0),                       // one microsecond after T: future, outside
        ], ttl);
        var (_, rows) = await Join(registry, Entities((1, T0), (2, T0), (3, T0), (4, T0)));
        Assert.Equal([1.0, null, 3.0, null], rows.Select(r => r[2]).ToArray());
    }

    [Fact]
    public async Task Zero_or_missing_ttl_means_no_lower_bound()
    {
        foreach (var ttl in new TimeSpan?[] { null, TimeSpan.Zero })
        {
            var registry = Registry([Row(1, T0.AddYears(-5), 7.0)], ttl);
            var (_, rows) = await Join(registry, Entities((1, T0)));
            Assert.Equal(7.0, rows[0][2]);
        }
    }

    [Fact]
    public async Task Latest_event_wins_and_created_timestamp_breaks_ties()
    {
        var registry = Registry(
        [
            // Feast's backfill rule: a later event beats a larger created timestamp ...
            Row(1, T0.AddHours(-1), 40.0, created: T0.AddHours(-1)),
            Row(1, T0.AddHours(-2), 30.0, created: T0.AddHours(5)),
            // ... and on equal event times the later created timestamp wins.
            Row(2, T0.AddHours(-1), 10.0, created: T0.AddHours(-1)),
            Row(2, T0.AddHours(-1), 20.0, created: T0.AddHours(3)),
            Row(2, T0.AddHours(-1), 15.0, created: T0.AddHours(1)),
        ]);
        var (_, rows) = await Join(registry, Entities((1, T0), (2, T0)));
        Assert.Equal([40.0, 20.0], rows.Select(r => r[2]).ToArray());
    }

    [Fact]
    public async Task Integer_keys_match_exactly_whether_or_not_they_fit_in_32_bits()
    {
        // Source keys that all fit in INTEGER are compared narrowed (a smaller sort key); an entity key outside that range,
        // even one equal to a source key modulo 2^32, must find nothing, and a NULL key nothing either.
        var narrow = Registry([Row(7, T0.AddMinutes(-5), 1.5, created: T0), Row(7, T0.AddMinutes(-5), 2.5, created: T0.AddHours(1)), Row(-3, T0.AddMinutes(-1), 3.5)]);
        var entities = EntityDataFrame.FromRows(["driver_id", "event_timestamp"],
            [[7L, T0], [(1L << 32) + 7, T0], [-3L, T0], [null, T0], [long.MinValue, T0], [-(1L << 32) - 3, T0]]);
        var (_, rows) = await Join(narrow, entities);
        Assert.Equal([2.5, null, 3.5, null, null, null], rows.Select(r => r[2]).ToArray());

        // A source with one key beyond INTEGER is compared as BIGINT, and every key still matches exactly.
        var wide = Registry([Row(7, T0.AddMinutes(-5), 1.5), Row((1L << 32) + 7, T0.AddMinutes(-5), 4.5), Row(long.MaxValue, T0.AddMinutes(-5), 5.5)], viewName: "stats");
        (_, rows) = await Join(wide, EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [[(1L << 32) + 7, T0], [7L, T0], [long.MaxValue, T0], [8L, T0]]), output: "out-wide.parquet");
        Assert.Equal([4.5, 1.5, 5.5, null], rows.Select(r => r[2]).ToArray());
    }

    [Fact]
    public async Task Rows_without_a_match_are_kept_with_nulls_and_duplicates_keep_input_order()
    {
        var registry = Registry([Row(1, T0.AddMinutes(-5), 1.5), Row(2, T0.AddMinutes(5), 2.5)]);
        var (_, rows) = await Join(registry, Entities((2, T0), (1, T0), (99, T0), (1, T0), (2, T0.AddMinutes(10))));
        Assert.Equal([2L, 1L, 99L, 1L, 2L], rows.Select(r => r[0]).ToArray());
        Assert.Equal([null, 1.5, null, 1.5, 2.5], rows.Select(r => r[2]).ToArray());
    }

    [Fact]
    public async Task Extra_entity_columns_pass_through_unchanged()
    {
        var registry = Registry([Row(1, T0.AddMinutes(-5), 1.5)]);
        var entities = EntityDataFrame.FromRows(["label_in", "driver_id", "event_timestamp", "weight"],
            [["a", 1L, T0, 0.25], ["b", 2L, T0, null]]);
        var (columns, rows) = await Join(registry, entities);
        Assert.Equal(["label_in", "driver_id", "event_timestamp", "weight", "value"], columns);
        Assert.Equal(["a", 1L, T0, 0.25, 1.5], rows[0].Select(v => v is DateTimeOffset d ? d.UtcDateTime : v).ToArray());
        Assert.Equal("b", rows[1][0]);
        Assert.Null(rows[1][3]);
    }

    [Fact]
    public async Task Full_feature_names_use_view_name_or_alias_and_join_key_maps_pick_entity_columns()
    {
        var registry = Registry([Row(1, T0.AddMinutes(-5), 1.5, label: "one"), Row(2, T0.AddMinutes(-5), 2.5, label: "two")]);
        registry = registry with
        {
            FeatureServices =
            [
                new FeatureService
                {
                    Name = "svc",
                    Projections =
                    [
                        new FeatureViewProjection { View = "stats", Features = ["label"] },
                        new FeatureViewProjection { View = "stats", Alias = "partner", Features = ["label"], JoinKeyMap = new Dictionary<string, string> { ["driver_id"] = "partner_id" } },
                    ],
                },
            ],
        };
        var plan = HistoricalRetrievalPlanner.ForService(registry, "svc", fullFeatureNames: true);
        var entities = EntityDataFrame.FromRows(["driver_id", "partner_id", "event_timestamp"], [[1L, 2L, T0], [2L, 3L, T0]]);
        var (columns, rows) = await Join(registry, entities, plan);
        Assert.Equal(["driver_id", "partner_id", "event_timestamp", "stats__label", "partner__label"], columns);
        Assert.Equal(["one", "two"], rows[0][3..]);
        Assert.Equal(["two", null], rows[1][3..]);
    }

    [Fact]
    public async Task Csv_entities_with_naive_and_zoned_times_are_compared_in_utc()
    {
        var registry = Registry([Row(1, T0, 1.0), Row(1, T0.AddHours(1), 2.0)]);
        var csv = Path.Combine(_folder, "entities.csv");
        // 12:30+01:00 is 11:30 UTC (before the first row); 13:30 naive is UTC (after the second); 14:00+01:00 is 13:00 UTC.
        File.WriteAllText(csv, "driver_id,event_timestamp\n1,2024-03-01T12:30:00+01:00\n1,2024-03-01 13:30:00\n1,2024-03-01T14:00:00+01:00\n");
        var (_, rows) = await Join(registry, EntityDataFrame.FromFile(csv));
        Assert.Equal([null, 2.0, 2.0], rows.Select(r => r[2]).ToArray());
        // DuckDB's CSV reader detects the column as TIMESTAMPTZ; the instant is preserved.
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 11, 30, 0, TimeSpan.Zero), PointInTimeScenario.Instant(rows[0][1]!));
    }

    [Fact]
    public async Task Parquet_entity_files_keep_input_order_at_scale_and_csv_output_works()
    {
        var registry = Registry(Enumerable.Range(0, 1000).Select(i => Row(i % 100, T0.AddMinutes(-(i % 7)), i)));
        var entityPath = Path.Combine(_folder, "entities.parquet");
        using (var connection = _store.Connect())
        {
            connection.Execute($"""
                COPY (SELECT (hash(i) % 120)::BIGINT AS driver_id, TIMESTAMP '2024-03-01 12:00:00' - to_minutes((i % 11)::BIGINT) AS event_timestamp, i AS seq
                      FROM range(200000) t(i) ORDER BY i) TO {Sql.Literal(entityPath)} (FORMAT parquet, ROW_GROUP_SIZE 10000)
                """);
        }
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value")], fullFeatureNames: false);
        var csvOut = Path.Combine(_folder, "out.csv");
        var progress = new List<HistoricalRetrievalProgress>();
        var result = await _store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = EntityDataFrame.FromFile(entityPath), Plan = plan, OutputPath = csvOut },
            SynchronousProgress.Create(progress.Add));
        Assert.Equal(200000, result.OutputRows);
        Assert.Equal("done", progress[^1].Phase);
        using var check = _store.Connect();
        Assert.Equal(200000L, check.QueryScalar($"SELECT count(*) FROM read_csv({Sql.Literal(csvOut)}, header = true)"));
        // Row order: seq must come back as 0, 1, 2, ...
        Assert.Equal(0L, check.QueryScalar($"""
            SELECT count(*) FROM (SELECT seq, row_number() OVER () - 1 AS position FROM read_csv({Sql.Literal(csvOut)}, header = true)) WHERE seq <> position
            """));
    }

    [Fact]
    public async Task On_demand_views_run_the_csharp_transform_on_joined_rows()
    {
        var registry = Registry([Row(1, T0.AddMinutes(-5), 1.5), Row(2, T0.AddMinutes(-5), 2.5)]);
        registry = registry with
        {
            DataSources = [.. registry.DataSources, new RequestSource { Name = "request", Schema = [new Field("bonus", new(ScalarType.Float64))] }],
            OnDemandFeatureViews =
            [
                new OnDemandFeatureView
                {
                    Name = "adjusted", Sources = ["stats", "request"], Transform = nameof(AddBonus),
                    Features = [new Field("value_plus_bonus", new(ScalarType.Float64)), new Field("has_value", new(ScalarType.Bool))],
                },
            ],
        };
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("adjusted:value_plus_bonus"), FeatureReference.Parse("adjusted:has_value"), FeatureReference.Parse("stats:label")],
            fullFeatureNames: false, transforms: _ => new AddBonus());
        var entities = EntityDataFrame.FromRows(["driver_id", "event_timestamp", "bonus"], [[1L, T0, 10.0], [3L, T0, 1.0], [2L, T0, 0.5]]);
        var (columns, rows) = await Join(registry, entities, plan);
        // Outputs follow request order; the view's 'value' (only an input) is not in the output.
        Assert.Equal(["driver_id", "event_timestamp", "bonus", "value_plus_bonus", "has_value", "label"], columns);
        Assert.Equal([11.5, null, 3.0], rows.Select(r => r[3]).ToArray());
        Assert.Equal([true, false, true], rows.Select(r => r[4]).ToArray());

        var missing = EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [[1L, T0]]);
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, missing, plan));
        Assert.Contains("request field 'bonus'", error.Message);
    }

    private sealed class AddBonus : IOnDemandTransform
    {
        public void Transform(TransformRow row)
        {
            row["value_plus_bonus"] = row.GetDouble("value") + row.GetDouble("bonus");
            row["has_value"] = !row.IsNull("value");
        }
    }

    [Fact]
    public async Task Same_feature_name_from_two_views_is_rejected_without_full_names()
    {
        var registry = Registry([Row(1, T0, 1.0)]);
        registry = Registry([Row(1, T0, 2.0)], viewName: "other", extend: registry);
        var error = Assert.Throws<HistoricalRetrievalException>(() =>
            HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value"), FeatureReference.Parse("other:value")], fullFeatureNames: false));
        Assert.Contains("feature name 'value' is produced by both 'stats:value' and 'other:value'", error.Message);
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value"), FeatureReference.Parse("other:value")], fullFeatureNames: true);
        var (columns, rows) = await Join(registry, Entities((1, T0)), plan);
        Assert.Equal(["driver_id", "event_timestamp", "stats__value", "other__value"], columns);
        Assert.Equal([1.0, 2.0], rows[0][2..]);
    }

    [Fact]
    public void Unknown_views_and_features_list_the_known_ones()
    {
        var registry = Registry([Row(1, T0, 1.0)]);
        var feature = Assert.Throws<HistoricalRetrievalException>(() => HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:nope")], false));
        Assert.Equal("feature view 'stats' has no feature 'nope'; known: value, label", feature.Message);
        var view = Assert.Throws<HistoricalRetrievalException>(() => HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("nothing:value")], false));
        Assert.Equal("feature view 'nothing' is not in the registry; known feature views: stats", view.Message);
        var service = Assert.Throws<HistoricalRetrievalException>(() => HistoricalRetrievalPlanner.ForService(registry, "missing", false));
        Assert.Contains("feature service 'missing' is not in the registry", service.Message);
    }

    [Fact]
    public async Task Missing_timestamp_or_entity_column_gets_a_clear_error()
    {
        var registry = Registry([Row(1, T0, 1.0)]);
        var noTime = EntityDataFrame.FromRows(["driver_id", "note"], [[1L, "x"]]);
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, noTime));
        Assert.Equal("entity dataframe has no timestamp column: add an 'event_timestamp' column (columns: driver_id, note)", error.Message);

        var noKey = EntityDataFrame.FromRows(["customer", "event_timestamp"], [[1L, T0]]);
        error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, noKey));
        Assert.Equal("entity dataframe has no column 'driver_id', which feature view 'stats' joins on (join key 'driver_id'); columns: customer, event_timestamp", error.Message);

        var badCsv = Path.Combine(_folder, "bad.csv");
        File.WriteAllText(badCsv, "driver_id,event_timestamp\n1,yesterday\n");
        error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromFile(badCsv)));
        Assert.Contains("has value 'yesterday', which is not a timestamp", error.Message);

        error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromFile(Path.Combine(_folder, "none.parquet"))));
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public async Task A_single_differently_named_timestamp_column_is_used()
    {
        var registry = Registry([Row(1, T0.AddMinutes(-1), 1.0)]);
        var entities = EntityDataFrame.FromRows(["driver_id", "as_of"], [[1L, T0]]);
        var (_, rows) = await Join(registry, entities);
        Assert.Equal(1.0, rows[0][2]);
    }

    [Fact]
    public async Task Missing_source_column_and_colliding_entity_column_are_reported()
    {
        var registry = Registry([Row(1, T0, 1.0)]);
        var broken = registry with { FeatureViews = [registry.FeatureViews[0] with { Features = [new Field("velocity", new(ScalarType.Float64))] }] };
        var plan = HistoricalRetrievalPlanner.ForFeatures(broken, [FeatureReference.Parse("stats:velocity")], false);
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(broken, Entities((1, T0)), plan));
        Assert.Equal("source 'stats_source' of feature view 'stats' has no column 'velocity' (feature 'velocity'); its columns: driver_id, event_timestamp, created, value, label", error.Message);

        var colliding = EntityDataFrame.FromRows(["driver_id", "event_timestamp", "value"], [[1L, T0, 3.0]]);
        error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, colliding));
        Assert.Contains("feature column 'value' collides with the entity dataframe column", error.Message);
    }

    [Fact]
    public async Task Source_schema_reports_columns_and_value_types()
    {
        var registry = Registry([Row(1, T0, 1.0)]);
        var columns = await _store.GetSourceSchemaAsync(registry.DataSources[0]);
        Assert.Equal(["driver_id", "event_timestamp", "created", "value", "label"], columns.Select(c => c.Name));
        Assert.Equal([ScalarType.Int64, ScalarType.UnixTimestamp, ScalarType.UnixTimestamp, ScalarType.Float64, ScalarType.String], columns.Select(c => c.ValueType!.Value.Scalar));
        Assert.Equal("BIGINT", columns[0].EngineType);
        var missing = new FileSource { Name = "gone", Path = "gone.parquet" };
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => _store.GetSourceSchemaAsync(missing));
        Assert.Contains("neither a Parquet file nor a folder", error.Message);
    }

    [Fact]
    public async Task Latest_rows_are_read_per_key_within_an_inclusive_window()
    {
        var registry = Registry(
        [
            Row(1, T0.AddHours(-3), 1.0),
            Row(1, T0.AddHours(-1), 2.0, created: T0),
            Row(1, T0.AddHours(-1), 3.0, created: T0.AddMinutes(1)),   // same event time, later created: wins
            Row(1, T0.AddHours(1), 4.0),                               // after End
            Row(2, T0.AddHours(-2), 5.0),                              // exactly Start
            Row(3, T0.AddHours(-5), 6.0),                              // before Start
        ]);
        var query = new LatestRowsQuery
        {
            View = registry.FeatureViews[0], Source = registry.DataSources[0], JoinKeys = ["driver_id"], Features = ["value", "label"],
            Start = new DateTimeOffset(T0.AddHours(-2), TimeSpan.Zero), End = new DateTimeOffset(T0, TimeSpan.Zero),
        };
        var rows = new List<LatestFeatureRow>();
        await foreach (var row in _store.ReadLatestRowsAsync(query)) rows.Add(row);
        var byKey = rows.ToDictionary(r => (long)r.JoinKeyValues[0]!);
        Assert.Equal([1L, 2L], byKey.Keys.Order());
        Assert.Equal(3.0, byKey[1].FeatureValues[0]);
        Assert.Equal(new DateTimeOffset(T0.AddHours(-1), TimeSpan.Zero), byKey[1].EventTimestamp);
        Assert.Equal(new DateTimeOffset(T0.AddMinutes(1), TimeSpan.Zero), byKey[1].CreatedTimestamp);
        Assert.Equal(5.0, byKey[2].FeatureValues[0]);
    }

    [Fact]
    public void Generated_sql_is_an_asof_join_per_view_with_the_ttl_check()
    {
        var registry = Registry([Row(1, T0, 1.0)], TimeSpan.FromHours(2));
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value")], false);
        var sql = _store.ExplainPointInTimeJoin(new HistoricalRetrieval { Entities = Entities((1, T0)), Plan = plan, OutputPath = "x.parquet" });
        Assert.Contains("epoch_us(\"event_timestamp\") AS __event_us", sql);
        // The BIGINT key's values fit in INTEGER, so the join compares it narrowed (a fixed-size ASOF sort key).
        Assert.Contains("SELECT CAST(\"driver_id\" AS INTEGER) AS \"driver_id\"", sql);
        // The source's event and created ranges fit, so the tie-break order is a packed BIGINT (EventOrderEncodingTests covers the HUGEINT fallback).
        Assert.Contains("ASOF LEFT JOIN v0 ON TRY_CAST(e.\"driver_id\" AS INTEGER) = v0.\"driver_id\" AND CASE WHEN e.__granary_entity_us < ", sql);
        Assert.Contains("CASE WHEN v0.__event_us >= e.__granary_entity_us - 7200000000 /* ttl 02:00:00 */ THEN v0.\"value\" END AS \"value\"", sql);
        Assert.Contains("ELSE error('the source files changed while the join ran; run the retrieval again') END AS __event_order", sql);
        Assert.DoesNotContain("HUGEINT", sql);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>Reports progress on the caller's thread (Progress&lt;T&gt; posts to the thread pool, which races assertions).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

internal static class SynchronousProgress
{
    public static SynchronousProgress<HistoricalRetrievalProgress> Create(Action<HistoricalRetrievalProgress> report) => new(report);
}
