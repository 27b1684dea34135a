using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Offline.Postgres;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>The PostgreSQL offline store against the real server: the randomized property test and targeted rules.</summary>
public sealed class PostgresPointInTimeTests : IClassFixture<PostgresSchemaFixture>, IDisposable
{
    private static readonly DateTime T0 = new(2024, 3, 1, 12, 0, 0);
    private readonly PostgresSchemaFixture _database;
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-pg-offline-").FullName;
    private readonly PostgresOfflineStore _store;

    public PostgresPointInTimeTests(PostgresSchemaFixture database)
    {
        _database = database;
        _store = new PostgresOfflineStore(new PostgresOfflineStoreOptions
        {
            ConnectionString = database.ConnectionString,
            DuckDb = new DuckDbEngineOptions { MemoryLimit = "512MB", Threads = 2 },
        });
    }

    private PointInTimeScenario Scenario(int seed, int entityRowCount = 150) =>
        PointInTimeScenario.Generate(seed, (name, data) => new PostgresSource { Name = name, Table = _database.CreateTable($"{name}_{seed}", data) }, entityRowCount);

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public Task Feature_references_match_the_brute_force_join(int seed)
    {
        var scenario = Scenario(seed);
        return scenario.AssertStoreMatchesReferenceAsync(_store, scenario.FeatureReferencePlan(), Path.Combine(_folder, $"out-{seed}.parquet"));
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    public Task Feature_service_with_aliases_and_full_names_matches_the_brute_force_join(int seed)
    {
        var scenario = Scenario(seed);
        return scenario.AssertStoreMatchesReferenceAsync(_store, scenario.ServicePlan(), Path.Combine(_folder, $"out-{seed}.parquet"));
    }

    /// <summary>A CSV entity dataframe past DuckDB's sniffing sample, naive rows first and zoned ones after, against the brute force.</summary>
    [Fact]
    public Task Csv_entities_with_offsets_after_a_naive_sample_match_the_brute_force_join()
    {
        var scenario = Scenario(51, entityRowCount: 22_000);
        var csv = Path.Combine(_folder, "entities-51.csv");
        scenario.WriteEntityCsv(csv, r => r >= 20_580, seed: 51);
        return scenario.AssertStoreMatchesReferenceAsync(_store, scenario.FeatureReferencePlan(), Path.Combine(_folder, "out-51.parquet"), EntityDataFrame.FromFile(csv));
    }

    [Fact]
    public async Task A_text_timestamp_column_is_refused_with_the_fix()
    {
        var table = $"{_database.Schema}.text_ts";
        _database.Execute($"CREATE TABLE {table} (driver_id bigint, event_timestamp text, value double precision); INSERT INTO {table} VALUES (1, 'yesterday', 1.0)");
        var registry = new RegistrySnapshot
        {
            Project = "pg",
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new PostgresSource { Name = "src", Table = table, TimestampField = "event_timestamp" }],
            FeatureViews = [new FeatureView { Name = "stats", Entities = ["driver"], Source = "src", Features = [new Field("value", new(ScalarType.Float64))] }],
        };
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [[1L, T0]])));
        Assert.Equal("timestamp field 'event_timestamp' of PostgreSQL source 'src' (feature view 'stats') has type text; it must be timestamptz, timestamp (read as UTC) or date: convert it, e.g. ALTER TABLE ... ALTER COLUMN \"event_timestamp\" TYPE timestamptz USING \"event_timestamp\"::timestamptz", error.Message);
        var latest = new LatestRowsQuery
        {
            View = registry.FeatureViews[0], Source = registry.DataSources[0], JoinKeys = ["driver_id"], Features = ["value"],
            Start = Utc(T0.AddDays(-1)), End = Utc(T0),
        };
        error = await Assert.ThrowsAsync<HistoricalRetrievalException>(async () => { await foreach (var _ in _store.ReadLatestRowsAsync(latest)) { } });
        Assert.StartsWith("timestamp field 'event_timestamp' of PostgreSQL source 'src' (feature view 'stats') has type text", error.Message);
    }

    [Fact]
    public async Task A_non_numeric_join_key_is_reported_before_anything_reaches_postgres()
    {
        var registry = Registry("bad_key", null, [1L, T0, Utc(T0), 1.0]);
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [["1", T0], ["abc", T0]])));
        Assert.Equal("entity column 'driver_id' has value 'abc' at row 2 of the inline entity dataframe, which is not a valid Int64: feature view 'stats' joins it with column 'driver_id' (bigint) of PostgreSQL source 'src'; fix or remove that row", error.Message);
    }

    private RegistrySnapshot Registry(string table, TimeSpan? ttl, params object?[][] rows)
    {
        var data = new TableData([("driver_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("created", ColumnKind.ZonedTimestamp), ("value", ColumnKind.Double)], rows.ToList());
        var source = new PostgresSource { Name = "src", Table = _database.CreateTable(table, data), TimestampField = "event_timestamp", CreatedTimestampField = "created" };
        return new RegistrySnapshot
        {
            Project = "pg",
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [source],
            FeatureViews = [new FeatureView { Name = "stats", Entities = ["driver"], Source = "src", Ttl = ttl, Features = [new Field("value", new(ScalarType.Float64))] }],
        };
    }

    private async Task<List<object?[]>> Join(RegistrySnapshot registry, EntityDataFrame entities, string output = "out.csv")
    {
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value")], false);
        var path = Path.Combine(_folder, output);
        await _store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = entities, Plan = plan, OutputPath = path });
        using var duck = new DuckDbOfflineStore();
        using var connection = duck.Connect();
        return TableData.ReadFile(connection, path).Rows;
    }

    private static DateTimeOffset Utc(DateTime t) => new(t, TimeSpan.Zero);

    [Fact]
    public async Task Ttl_bounds_are_inclusive_and_created_timestamp_breaks_ties()
    {
        var registry = Registry("rules", TimeSpan.FromHours(1),
            [1L, T0.AddHours(-1), Utc(T0), 1.0],                      // exactly T - ttl: inside
            [2L, T0.AddHours(-1).AddTicks(-10), Utc(T0), 2.0],        // just before T - ttl: outside
            [3L, T0, Utc(T0), 3.0],                                   // exactly T: inside
            [4L, T0.AddTicks(10), Utc(T0), 4.0],                      // just after T: outside
            [5L, T0.AddMinutes(-1), Utc(T0), 50.0],
            [5L, T0.AddMinutes(-1), Utc(T0.AddMinutes(1)), 51.0],     // same event time, later created: wins
            [5L, T0.AddMinutes(-2), Utc(T0.AddHours(9)), 52.0]);      // earlier event, larger created: loses
        var entities = EntityDataFrame.FromRows(["driver_id", "event_timestamp"],
            [[1L, T0], [2L, T0], [3L, T0], [4L, T0], [5L, new DateTimeOffset(T0).ToOffset(TimeSpan.FromHours(-7))], [6L, T0], [1L, T0]]);
        var rows = await Join(registry, entities);
        Assert.Equal([1.0, null, 3.0, null, 51.0, null, 1.0], rows.Select(r => r[2]).ToArray());
    }

    [Fact]
    public async Task On_demand_views_run_on_rows_joined_in_postgres()
    {
        var registry = Registry("odfv", null, [1L, T0.AddMinutes(-5), Utc(T0), 1.5], [2L, T0.AddMinutes(-5), Utc(T0), 2.5]);
        registry = registry with
        {
            DataSources = [.. registry.DataSources, new RequestSource { Name = "request", Schema = [new Field("factor", new(ScalarType.Float64))] }],
            OnDemandFeatureViews = [new OnDemandFeatureView { Name = "scaled", Sources = ["stats", "request"], Transform = nameof(Scale), Features = [new Field("scaled_value", new(ScalarType.Float64))] }],
        };
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("scaled:scaled_value")], false, _ => new Scale());
        var path = Path.Combine(_folder, "odfv.parquet");
        var entities = EntityDataFrame.FromRows(["driver_id", "event_timestamp", "factor"], [[2L, T0, 10.0], [9L, T0, 3.0], [1L, T0, 2.0]]);
        await _store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = entities, Plan = plan, OutputPath = path });
        using var duck = new DuckDbOfflineStore();
        using var connection = duck.Connect();
        var (columns, rows) = TableData.ReadFile(connection, path);
        Assert.Equal(["driver_id", "event_timestamp", "factor", "scaled_value"], columns);
        Assert.Equal([25.0, null, 3.0], rows.Select(r => r[3]).ToArray());
    }

    private sealed class Scale : IOnDemandTransform
    {
        public void Transform(TransformRow row) => row["scaled_value"] = row.GetDouble("value") * row.GetDouble("factor");
    }

    [Fact]
    public async Task Source_schema_and_errors_come_from_the_server()
    {
        var registry = Registry("schema", null, [1L, T0, Utc(T0), 1.0]);
        var columns = await _store.GetSourceSchemaAsync(registry.DataSources[0]);
        Assert.Equal(["driver_id", "event_timestamp", "created", "value"], columns.Select(c => c.Name));
        Assert.Equal("timestamp without time zone", columns[1].EngineType);
        Assert.Equal(ScalarType.Float64, columns[3].ValueType!.Value.Scalar);

        var missing = new PostgresSource { Name = "missing", Table = $"{_database.Schema}.no_such_table" };
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => _store.GetSourceSchemaAsync(missing));
        Assert.Contains("no_such_table", error.Message);

        var noKey = EntityDataFrame.FromRows(["rider", "event_timestamp"], [[1L, T0]]);
        error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, noKey));
        Assert.Contains("entity dataframe has no column 'driver_id'", error.Message);
    }

    [Fact]
    public async Task Latest_rows_are_read_per_key_within_an_inclusive_window()
    {
        var registry = Registry("latest", null,
            [1L, T0.AddHours(-1), Utc(T0), 2.0],
            [1L, T0.AddHours(-1), Utc(T0.AddMinutes(1)), 3.0],
            [1L, T0.AddHours(1), Utc(T0), 4.0],
            [2L, T0.AddHours(-2), Utc(T0), 5.0],
            [3L, T0.AddHours(-5), Utc(T0), 6.0]);
        var query = new LatestRowsQuery
        {
            View = registry.FeatureViews[0], Source = registry.DataSources[0], JoinKeys = ["driver_id"], Features = ["value"],
            Start = Utc(T0.AddHours(-2)), End = Utc(T0),
        };
        var rows = new List<LatestFeatureRow>();
        await foreach (var row in _store.ReadLatestRowsAsync(query)) rows.Add(row);
        Assert.Equal([1L, 2L], rows.Select(r => (long)r.JoinKeyValues[0]!).Order());
        Assert.Equal(3.0, rows.Single(r => (long)r.JoinKeyValues[0]! == 1).FeatureValues[0]);
        Assert.Equal(Utc(T0.AddHours(-1)), rows.Single(r => (long)r.JoinKeyValues[0]! == 1).EventTimestamp);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
