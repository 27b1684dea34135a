using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>A join whose entity table and result are larger than DuckDB's memory limit still completes (it spills to the temp directory).</summary>
public sealed class BoundedMemoryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-memory-").FullName;

    [Fact]
    public async Task A_result_larger_than_the_memory_limit_is_written_by_spilling()
    {
        var spill = Path.Combine(_folder, "spill");
        // The data is written with the default limit; only the join runs under the small one. Row groups stay small
        // (about 5 MB of payload): DuckDB reads a Parquet column chunk whole, so the limit must exceed threads x chunk size.
        using (var writer = new DuckDbOfflineStore())
        using (var connection = writer.Connect())
        {
            connection.Execute($"""
                COPY (SELECT (i % 5000)::BIGINT AS id, TIMESTAMP '2024-01-01' + to_minutes(i // 5000) AS ts, i::DOUBLE AS v
                      FROM range(1000000) t(i)) TO {Sql.Literal(Path.Combine(_folder, "source.parquet"))} (FORMAT parquet);
                COPY (SELECT (hash(i) % 6000)::BIGINT AS id, TIMESTAMP '2024-01-01' + to_minutes((hash(i * 3) % 300)::BIGINT) AS event_timestamp,
                             repeat(chr(65 + (i % 26)::INTEGER), 120) || i::VARCHAR AS payload
                      FROM range(1200000) t(i)) TO {Sql.Literal(Path.Combine(_folder, "entities.parquet"))} (FORMAT parquet, ROW_GROUP_SIZE 10000);
                """);
        }
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "128MB", TempDirectory = spill, Threads = 1 });
        var registry = new RegistrySnapshot
        {
            Project = "memory",
            Entities = [new Entity { Name = "thing", JoinKey = "id" }],
            DataSources = [new FileSource { Name = "src", Path = "source.parquet", TimestampField = "ts" }],
            FeatureViews = [new FeatureView { Name = "stats", Entities = ["thing"], Source = "src", Ttl = TimeSpan.FromHours(1), Features = [new Field("v", new(ScalarType.Float64))] }],
        };
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("stats:v")], false);
        var output = Path.Combine(_folder, "out.parquet");
        var result = await store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = EntityDataFrame.FromFile(Path.Combine(_folder, "entities.parquet")), Plan = plan, OutputPath = output });

        Assert.Equal(1200000, result.OutputRows);
        using var check = store.Connect();
        // About 150 MB of payload alone went through a 128 MB limit, in order.
        Assert.Equal(0L, check.QueryScalar($"""
            SELECT count(*) FROM (SELECT payload, row_number() OVER () - 1 AS position FROM read_parquet({Sql.Literal(output)}))
            WHERE CAST(regexp_extract(payload, '[0-9]+$') AS BIGINT) <> position
            """));
        Assert.True((long)check.QueryScalar($"SELECT count(v) FROM read_parquet({Sql.Literal(output)})")! > 100000);
    }

    /// <summary>
    /// Issue 9: with an on-demand view, 204,800 entity rows or more failed ("Attempting to execute an unsuccessful or closed
    /// pending query result"): the appender's flush at 204,800 rows ran on the connection that was streaming the inputs.
    /// 300,000 rows, under a 128 MB limit, must all come back, transformed and in order.
    /// </summary>
    [Fact]
    public async Task On_demand_views_work_well_past_204800_entity_rows_under_a_small_memory_limit()
    {
        const int rows = 300_000;
        using (var writer = new DuckDbOfflineStore())
        using (var connection = writer.Connect())
        {
            connection.Execute($"""
                COPY (SELECT i::BIGINT AS id, TIMESTAMP '2024-01-01' AS ts, (i * 2)::DOUBLE AS v FROM range(50000) t(i))
                    TO {Sql.Literal(Path.Combine(_folder, "source.parquet"))} (FORMAT parquet);
                COPY (SELECT (i % 60000)::BIGINT AS id, TIMESTAMP '2024-01-02' AS event_timestamp, (i % 7)::DOUBLE AS bonus, i AS seq
                      FROM range({rows}) t(i)) TO {Sql.Literal(Path.Combine(_folder, "entities.parquet"))} (FORMAT parquet, ROW_GROUP_SIZE 20000);
                """);
        }
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "128MB", TempDirectory = Path.Combine(_folder, "spill"), Threads = 1 });
        var registry = new RegistrySnapshot
        {
            Project = "memory",
            Entities = [new Entity { Name = "thing", JoinKey = "id" }],
            DataSources =
            [
                new FileSource { Name = "src", Path = "source.parquet", TimestampField = "ts" },
                new RequestSource { Name = "request", Schema = [new Field("bonus", new(ScalarType.Float64))] },
            ],
            FeatureViews = [new FeatureView { Name = "stats", Entities = ["thing"], Source = "src", Features = [new Field("v", new(ScalarType.Float64))] }],
            OnDemandFeatureViews =
            [
                new OnDemandFeatureView { Name = "boosted", Sources = ["stats", "request"], Transform = nameof(AddBonus), Features = [new Field("v_plus_bonus", new(ScalarType.Float64))] },
            ],
        };
        var plan = HistoricalRetrievalPlanner.ForFeatures(registry, [FeatureReference.Parse("boosted:v_plus_bonus")], false, _ => new AddBonus());
        var output = Path.Combine(_folder, "odfv.parquet");
        var result = await store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = EntityDataFrame.FromFile(Path.Combine(_folder, "entities.parquet")), Plan = plan, OutputPath = output });

        Assert.Equal(rows, result.OutputRows);
        using var check = store.Connect();
        var read = $"read_parquet({Sql.Literal(output)})";
        Assert.Equal((long)rows, check.QueryScalar($"SELECT count(*) FROM {read}"));
        // In input order; ids 0..49,999 have a source row (v = 2 id), the others none (NULL stays NULL).
        Assert.Equal(0L, check.QueryScalar($"SELECT count(*) FROM (SELECT seq, row_number() OVER () - 1 AS position FROM {read}) WHERE seq <> position"));
        Assert.Equal(0L, check.QueryScalar($"""
            SELECT count(*) FROM {read}
            WHERE (id < 50000 AND v_plus_bonus IS DISTINCT FROM id * 2 + bonus) OR (id >= 50000 AND v_plus_bonus IS NOT NULL)
            """));
    }

    private sealed class AddBonus : IOnDemandTransform
    {
        public void Transform(TransformRow row) => row["v_plus_bonus"] = row.IsNull("v") ? null : row.GetDouble("v") + row.GetDouble("bonus");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
