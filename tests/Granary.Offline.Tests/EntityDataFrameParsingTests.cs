using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>
/// Entity dataframes and sources whose types a sampled guess would decide (issue 9): timestamps with offsets after a naive
/// sample, text in integer join keys, empty files, text or mixed timestamp columns in Parquet sources.
/// </summary>
public sealed class EntityDataFrameParsingTests : IDisposable
{
    // DuckDB's CSV sniffer reads this many rows by default; the tests put the interesting value after it.
    private const int SampleWindow = 20_480;
    private static readonly DateTime T0 = new(2024, 3, 1, 0, 0, 0);
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-parsing-").FullName;
    private readonly DuckDbOfflineStore _store;

    public EntityDataFrameParsingTests() =>
        _store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 });

    /// <summary>View "stats" over driver 1 with one row per hour of 2024-03-01; the value is the hour (UTC).</summary>
    private RegistrySnapshot HourlyRegistry(string path = "stats.parquet")
    {
        var data = new TableData([("driver_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("value", ColumnKind.Double)],
            Enumerable.Range(0, 24).Select(h => new object?[] { 1L, T0.AddHours(h), (double)h }).ToList());
        using (var connection = _store.Connect()) data.WriteParquet(connection, Path.Combine(_folder, path));
        return new RegistrySnapshot
        {
            Project = "parsing",
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new FileSource { Name = "stats_source", Path = path, TimestampField = "event_timestamp" }],
            FeatureViews = [new FeatureView { Name = "stats", Entities = ["driver"], Source = "stats_source", Features = [new Field("value", new(ScalarType.Float64))] }],
        };
    }

    private async Task<List<object?[]>> Join(RegistrySnapshot registry, EntityDataFrame entities)
    {
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value")], fullFeatureNames: false);
        var output = Path.Combine(_folder, $"out-{Guid.NewGuid():N}.parquet");
        await _store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = entities, Plan = plan, OutputPath = output });
        using var connection = _store.Connect();
        return TableData.ReadFile(connection, output).Rows;
    }

    private string WriteCsv(string name, string header, IEnumerable<string> lines)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllLines(path, lines.Prepend(header));
        return path;
    }

    [Fact]
    public async Task A_zoned_csv_timestamp_after_a_naive_sample_keeps_its_offset()
    {
        var registry = HourlyRegistry();
        // 21,000 naive rows at 05:30 UTC, then 20:30+09:00, which is 11:30 UTC: the value known then is hour 11, not 20.
        var csv = WriteCsv("late-offset.csv", "driver_id,event_timestamp",
            Enumerable.Repeat("1,2024-03-01 05:30:00", SampleWindow + 520).Append("1,2024-03-01T20:30:00+09:00").Append("1,2024-03-01 20:30:00"));
        var rows = await Join(registry, EntityDataFrame.FromFile(csv));
        Assert.Equal(5.0, rows[0][2]);
        Assert.Equal(11.0, rows[^2][2]);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 11, 30, 0, TimeSpan.Zero), PointInTimeScenario.Instant(rows[^2][1]!));
        Assert.Equal(20.0, rows[^1][2]);
    }

    [Fact]
    public async Task A_bad_csv_timestamp_after_the_sample_is_reported_with_its_row()
    {
        var registry = HourlyRegistry();
        var csv = WriteCsv("late-bad.csv", "driver_id,event_timestamp",
            Enumerable.Repeat("1,2024-03-01 05:30:00", SampleWindow + 10).Append("1,soon"));
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromFile(csv)));
        Assert.Equal($"entity timestamp column 'event_timestamp' has value 'soon', which is not a timestamp, at row {SampleWindow + 11} of entity dataframe file '{csv}' (use ISO 8601, e.g. 2024-01-31 12:00:00 for UTC or 2024-01-31T12:00:00+01:00)", error.Message);
    }

    [Theory]
    [InlineData(2)]                    // inside the sniffer's sample: the column would be guessed as text
    [InlineData(SampleWindow + 500)]   // after it: the column would be guessed as an integer, then fail to read
    public async Task A_non_numeric_value_in_an_integer_join_key_names_the_file_column_row_and_value(int badRow)
    {
        var registry = HourlyRegistry();
        var csv = WriteCsv($"bad-key-{badRow}.csv", "driver_id,event_timestamp,note",
            Enumerable.Range(1, badRow + 10).Select(r => $"{(r == badRow ? "abc" : "1")},2024-03-01 05:30:00,n{r}"));
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromFile(csv)));
        Assert.Equal($"entity column 'driver_id' has value 'abc' at row {badRow} of entity dataframe file '{csv}', which is not a valid Int64: feature view 'stats' joins it with column 'driver_id' (BIGINT) of source 'stats_source'; fix or remove that row", error.Message);
    }

    [Fact]
    public async Task Text_join_keys_that_are_all_numbers_are_converted_and_join()
    {
        var registry = HourlyRegistry();
        // Parquet with the key stored as text, and inline rows given as strings: both compare as the source's BIGINT.
        var parquet = Path.Combine(_folder, "text-keys.parquet");
        using (var connection = _store.Connect())
            connection.Execute($"COPY (SELECT '1' AS driver_id, TIMESTAMP '2024-03-01 07:10:00' AS event_timestamp UNION ALL SELECT '2', TIMESTAMP '2024-03-01 07:10:00') TO {Sql.Literal(parquet)} (FORMAT parquet)");
        var rows = await Join(registry, EntityDataFrame.FromFile(parquet));
        Assert.Equal([7.0, null], rows.Select(r => r[2]).ToArray());
        Assert.Equal(1L, rows[0][0]);

        var inline = EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [["1", T0.AddHours(3)], ["x1", T0]]);
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, inline));
        Assert.StartsWith("entity column 'driver_id' has value 'x1' at row 2 of the inline entity dataframe, which is not a valid Int64", error.Message);
    }

    [Theory]
    [InlineData("entities.csv")]
    [InlineData("entities.parquet")]
    public async Task An_empty_entity_file_is_reported_as_empty(string name)
    {
        var registry = HourlyRegistry();
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, []);
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromFile(path)));
        Assert.Equal($"entity dataframe file '{path}' is empty (0 bytes); write a header row with the join keys and 'event_timestamp', then one row per entity", error.Message);
    }

    [Fact]
    public async Task A_csv_with_only_a_header_gives_an_empty_result()
    {
        var registry = HourlyRegistry();
        var csv = WriteCsv("header-only.csv", "driver_id,event_timestamp", []);
        Assert.Empty(await Join(registry, EntityDataFrame.FromFile(csv)));
    }

    [Fact]
    public async Task A_parquet_source_folder_mixing_naive_and_zoned_files_compares_instants()
    {
        // One file stores naive (UTC) times, the other the same kind of rows with +09:00 offsets; read together by name.
        using (var connection = _store.Connect())
        {
            Directory.CreateDirectory(Path.Combine(_folder, "mixed"));
            connection.Execute($"""
                COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '2024-03-01 10:00:00' AS event_timestamp, 10.0::DOUBLE AS value) TO {Sql.Literal(Path.Combine(_folder, "mixed", "a.parquet"))} (FORMAT parquet);
                COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-03-01 20:00:00+09:00' AS event_timestamp, 11.0::DOUBLE AS value) TO {Sql.Literal(Path.Combine(_folder, "mixed", "b.parquet"))} (FORMAT parquet);
                """);
        }
        var registry = HourlyRegistry() with { DataSources = [new FileSource { Name = "stats_source", Path = "mixed", TimestampField = "event_timestamp" }] };
        // 20:00+09:00 is 11:00 UTC: at 10:30 UTC only the first row is known, at 11:00 the second.
        var rows = await Join(registry, EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [[1L, T0.AddHours(10.5)], [1L, T0.AddHours(11)]]));
        Assert.Equal([10.0, 11.0], rows.Select(r => r[2]).ToArray());
    }

    [Fact]
    public async Task A_text_timestamp_column_in_a_parquet_source_is_refused_with_the_fix()
    {
        using (var connection = _store.Connect())
            connection.Execute($"COPY (SELECT 1::BIGINT AS driver_id, '2024-03-01 10:00:00+09' AS event_timestamp, 1.0::DOUBLE AS value) TO {Sql.Literal(Path.Combine(_folder, "text-ts.parquet"))} (FORMAT parquet)");
        var registry = HourlyRegistry() with { DataSources = [new FileSource { Name = "stats_source", Path = "text-ts.parquet", TimestampField = "event_timestamp" }] };
        var error = await Assert.ThrowsAsync<HistoricalRetrievalException>(() => Join(registry, EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [[1L, T0]])));
        Assert.Equal("timestamp field 'event_timestamp' of file source 'stats_source' (feature view 'stats') has type VARCHAR; it must be TIMESTAMP, TIMESTAMP WITH TIME ZONE or DATE: rewrite the Parquet files with a timestamp column", error.Message);
    }

    [Fact]
    public async Task Cancelling_interrupts_the_running_join_and_the_store_keeps_working()
    {
        var registry = HourlyRegistry();
        var entities = Path.Combine(_folder, "many.parquet");
        using (var connection = _store.Connect())
            connection.Execute($"""
                COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '2024-03-01' + to_microseconds((hash(i) % 86400000000)::BIGINT) AS event_timestamp, repeat('x', 200) AS payload
                      FROM range(3000000) t(i)) TO {Sql.Literal(entities)} (FORMAT parquet)
                """);
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:value")], fullFeatureNames: false);
        using var cancel = new CancellationTokenSource();
        var phases = new List<string>();
        // Cancelled from the first progress report of the join itself, so the interrupt lands while DuckDB runs it.
        var progress = SynchronousProgress.Create(p => { lock (phases) phases.Add(p.Phase); if (p.Phase == "joining") cancel.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.RunPointInTimeJoinAsync(
            new HistoricalRetrieval { Entities = EntityDataFrame.FromFile(entities), Plan = plan, OutputPath = Path.Combine(_folder, "cancelled.parquet") }, progress, cancel.Token));
        Assert.Contains("joining", phases);
        Assert.DoesNotContain("done", phases);
        Assert.Equal([3.0], (await Join(registry, EntityDataFrame.FromRows(["driver_id", "event_timestamp"], [[1L, T0.AddHours(3.5)]]))).Select(r => r[2]).ToArray());
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
