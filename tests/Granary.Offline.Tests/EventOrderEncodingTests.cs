using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>
/// The created-timestamp tie-break packed into a BIGINT (<see cref="EventOrderEncoding"/>) and its HUGEINT fallback: the
/// join must give the same winners either way, at the encoding's bounds, with NULL created times and entity times outside
/// the source's range.
/// </summary>
public sealed class EventOrderEncodingTests : IDisposable
{
    private static readonly DateTime Epoch2000 = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-order-").FullName;
    private readonly DuckDbOfflineStore _store;

    public EventOrderEncodingTests() =>
        _store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 });

    /// <summary>Source rows: (key, event, created or null, value).</summary>
    private sealed record SourceRow(long Key, DateTime Event, DateTime? Created, double Value);

    [Theory]
    // Whole seconds over 30 years: microsecond codes would need ~100 bits, second codes fit, so the join packs a BIGINT.
    [InlineData(1, 1_000_000L, "// 1000000")]
    [InlineData(2, 1_000_000L, "// 1000000")]
    // Microseconds over 30 years: nothing fits in 63 bits, so the join keeps the HUGEINT.
    [InlineData(3, 1L, "::HUGEINT")]
    [InlineData(4, 1L, "::HUGEINT")]
    // Whole days (midnights): day codes.
    [InlineData(5, 86_400_000_000L, "// 86400000000")]
    public async Task Winners_match_the_brute_force_join_whichever_order_the_join_uses(int seed, long unitMicros, string expectedSql)
    {
        var random = new Random(seed);
        var span = 30L * 365 * 86_400_000_000 / unitMicros;
        DateTime At(long units) => Epoch2000.AddTicks(units * unitMicros * 10);
        // Few distinct event times per key, so equal event times (decided by the created time) are common.
        var eventTimes = Enumerable.Range(0, 12).Select(_ => random.NextInt64(0, span)).Append(0).Append(span).ToArray();
        var rows = new List<SourceRow>();
        var seen = new HashSet<(long, DateTime, DateTime?)>();
        for (var n = 0; n < 300; n++)
        {
            var key = random.Next(1, 5);
            var ev = At(eventTimes[random.Next(eventTimes.Length)]);
            DateTime? created = random.Next(5) == 0 ? null : At(random.NextInt64(0, span));
            // Full ties (key, event and created equal) have no defined winner.
            if (seen.Add((key, ev, created))) rows.Add(new SourceRow(key, ev, created, n));
        }
        var entities = new List<(long Key, DateTime Time)>();
        foreach (var t in eventTimes)
        {
            // Exactly at an event time, just before and just after it.
            entities.Add((random.Next(1, 6), At(t)));
            entities.Add((random.Next(1, 6), At(t).AddTicks(-10)));
            entities.Add((random.Next(1, 6), At(t).AddTicks(10)));
        }
        // Before the first event and after the last, far away.
        entities.Add((1, Epoch2000.AddYears(-50)));
        entities.Add((2, Epoch2000.AddYears(200)));
        for (var n = 0; n < 100; n++) entities.Add((random.Next(1, 6), At(random.NextInt64(-span / 10, span + span / 10))));

        foreach (var ttl in new TimeSpan?[] { null, TimeSpan.FromDays(400) })
        {
            var (sql, values) = await Join(rows, entities, ttl, $"out-{seed}-{ttl?.Days}.parquet");
            Assert.Contains(expectedSql, sql);
            Assert.Equal(Reference(rows, entities, ttl), values);
        }
    }

    [Fact]
    public async Task Null_created_times_count_as_oldest_and_an_all_null_column_still_packs()
    {
        var t0 = new DateTime(2024, 5, 1, 12, 0, 0);
        var rows = new List<SourceRow>
        {
            new(1, t0, null, 1.0), new(1, t0, t0.AddDays(-3), 2.0),   // a created time beats NULL
            new(2, t0, null, 3.0), new(2, t0.AddHours(-1), t0.AddDays(9), 4.0), // a later event beats any created time
        };
        var (sql, values) = await Join(rows, [(1, t0), (2, t0), (2, t0.AddMinutes(-1))], null, "out-null.parquet");
        Assert.DoesNotContain("HUGEINT", sql);
        Assert.Equal([2.0, 3.0, 4.0], values);

        var allNull = new List<SourceRow> { new(1, t0, null, 5.0), new(1, t0.AddHours(-2), null, 6.0) };
        (sql, values) = await Join(allNull, [(1, t0), (1, t0.AddHours(-1)), (1, t0.AddHours(-3))], null, "out-all-null.parquet");
        Assert.DoesNotContain("HUGEINT", sql);
        Assert.Equal([5.0, 6.0, null], values);
    }

    [Fact]
    public void Encoding_fits_up_to_the_largest_bigint_and_no_further()
    {
        // 2^32 event codes x 2^31 created codes: largest order 2^63 - 1, the largest BIGINT.
        var fits = EventOrderEncoding.Fits(0, (1L << 32) - 1, 1, 0, (1L << 31) - 2, 1, allCreatedNull: false);
        Assert.NotNull(fits);
        Assert.Equal(1L << 31, fits.CreatedCodes);
        Assert.Null(EventOrderEncoding.Fits(0, 1L << 32, 1, 0, (1L << 31) - 2, 1, allCreatedNull: false));
        // The full range of epoch microseconds does not overflow the check.
        Assert.Null(EventOrderEncoding.Fits(long.MinValue, long.MaxValue, 1, long.MinValue, long.MaxValue, 1, allCreatedNull: false));
        Assert.NotNull(EventOrderEncoding.Fits(long.MinValue, long.MaxValue, 2, 0, 0, 1, allCreatedNull: true));
    }

    [Fact]
    public void Entity_bound_and_source_order_agree_at_the_edges_and_refuse_values_outside_the_planned_bounds()
    {
        // Events 1000..5000 us in steps of 1000, created 10..30 us in steps of 10: event codes 0..4, created codes 1..3 (0 NULL).
        var encoding = EventOrderEncoding.Fits(1000, 5000, 1000, 10, 30, 10, allCreatedNull: false)!;
        Assert.Equal(4, encoding.CreatedCodes);
        using var connection = _store.Connect();
        long? Bound(string micros) => (long?)connection.QueryScalar($"SELECT {encoding.EntityBound(micros)}");
        long? Order(string ev, string created) => (long?)connection.QueryScalar($"SELECT {encoding.SourceOrder(ev, created)}");
        Assert.Equal(-1, Bound("999::BIGINT"));
        Assert.Equal(3, Bound("1000::BIGINT"));
        Assert.Equal(3, Bound("1999::BIGINT"));
        Assert.Equal(7, Bound("2000::BIGINT"));
        Assert.Equal(19, Bound("5000::BIGINT"));
        Assert.Equal(19, Bound("9223372036854775807::BIGINT"));
        Assert.Null(Bound("NULL::BIGINT"));
        Assert.Equal(0, Order("1000::BIGINT", "NULL::BIGINT"));
        Assert.Equal(3, Order("1000::BIGINT", "30::BIGINT"));
        Assert.Equal(17, Order("5000::BIGINT", "10::BIGINT"));
        Assert.Null(Order("NULL::BIGINT", "10::BIGINT"));
        foreach (var (ev, created) in new[] { ("6000", "10"), ("0", "10"), ("1500", "10"), ("2000", "40"), ("2000", "15") })
        {
            var error = Assert.ThrowsAny<Exception>(() => Order($"{ev}::BIGINT", $"{created}::BIGINT"));
            Assert.Contains("source files changed", error.Message);
        }
    }

    [Fact]
    public async Task A_rewritten_source_is_planned_again()
    {
        // Whole-second created times over 30 years (packed by seconds), then the same file rewritten with millisecond created
        // times: the remembered unit scan must not be reused for the new content.
        var t0 = new DateTime(2010, 1, 1);
        var seconds = new List<SourceRow> { new(1, t0, t0.AddYears(30).AddSeconds(1), 1.0), new(1, t0, t0.AddYears(-1), 2.0), new(1, t0.AddYears(20), t0.AddSeconds(5), 3.0) };
        var (sql, values) = await Join(seconds, [(1, t0), (1, t0.AddYears(25))], null, "out-s.parquet", file: "rewritten.parquet");
        Assert.Contains("// 1000000", sql);
        Assert.Equal([1.0, 3.0], values);
        var millis = new List<SourceRow> { new(1, t0, t0.AddYears(30), 1.0), new(1, t0, t0.AddYears(30).AddMilliseconds(1), 2.0), new(1, t0.AddYears(20), t0.AddMilliseconds(7), 3.0) };
        (sql, values) = await Join(millis, [(1, t0), (1, t0.AddYears(25))], null, "out-ms.parquet", file: "rewritten.parquet");
        Assert.DoesNotContain("// 1000000 ", sql);
        Assert.Equal([2.0, 3.0], values);
    }

    private async Task<(string Sql, double?[] Values)> Join(List<SourceRow> rows, List<(long Key, DateTime Time)> entities, TimeSpan? ttl, string output, string? file = null)
    {
        var data = new TableData([("driver_id", ColumnKind.Int64), ("event_timestamp", ColumnKind.NaiveTimestamp), ("created", ColumnKind.NaiveTimestamp), ("value", ColumnKind.Double)],
            rows.Select(r => new object?[] { r.Key, r.Event, r.Created, r.Value }).ToList());
        file ??= $"src-{Guid.NewGuid():N}.parquet";
        using (var connection = _store.Connect()) data.WriteParquet(connection, Path.Combine(_folder, file));
        var source = new FileSource { Name = "src", Path = file, TimestampField = "event_timestamp", CreatedTimestampField = "created" };
        var registry = new RegistrySnapshot
        {
            Project = "order",
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [source],
            FeatureViews = [new FeatureView { Name = "v", Entities = ["driver"], Source = "src", Ttl = ttl, Features = [new Field("value", new(ScalarType.Float64))] }],
        };
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("v:value")], fullFeatureNames: false);
        var frame = EntityDataFrame.FromRows(["driver_id", "event_timestamp"], entities.Select(e => (IReadOnlyList<object?>)[e.Key, e.Time]).ToList());
        var path = Path.Combine(_folder, output);
        var sql = _store.ExplainPointInTimeJoin(new HistoricalRetrieval { Entities = frame, Plan = plan, OutputPath = path });
        await _store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = frame, Plan = plan, OutputPath = path });
        using var reader = _store.Connect();
        return (sql, TableData.ReadFile(reader, path).Rows.Select(r => (double?)r[2]).ToArray());
    }

    // Latest event at or before T (within the TTL), then the latest created time, NULL oldest.
    private static double?[] Reference(List<SourceRow> rows, List<(long Key, DateTime Time)> entities, TimeSpan? ttl) =>
        entities.Select(e => rows
            .Where(r => r.Key == e.Key && r.Event <= e.Time && (ttl is not { } t || r.Event >= e.Time - t))
            .OrderByDescending(r => r.Event).ThenByDescending(r => r.Created ?? DateTime.MinValue)
            .Select(r => (double?)r.Value).FirstOrDefault()).ToArray();

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
