using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Offline.Postgres;
using Npgsql;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Grains.Tests;

/// <summary>
/// Offline appends on the real engines: DuckDB over Parquet (a folder gets a new file in the stored types; a single file is
/// rewritten whole; no temporary file is left or read) and PostgreSQL (one COPY; a bad value leaves the table unchanged).
/// </summary>
public sealed class OfflineAppendTests : IDisposable
{
    private static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _root = Directory.CreateTempSubdirectory("granary-append-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static OfflineRowBatch Rows(params (long Driver, DateTimeOffset At, double Rate, long[] Tags)[] rows) => new(
        [new OfflineColumn("event_timestamp", new ValueType(ScalarType.UnixTimestamp)), new OfflineColumn("driver_id", new ValueType(ScalarType.Int64)),
         new OfflineColumn("conv_rate", new ValueType(ScalarType.Float64)), new OfflineColumn("tags", new ValueType(ScalarType.Int64, IsList: true))],
        rows.Select(r => new object?[] { r.At, r.Driver, r.Rate, r.Tags }).ToList());

    [Fact]
    public async Task A_folder_source_gets_a_new_file_in_the_types_its_files_already_have()
    {
        var folder = Path.Combine(_root, "stats");
        Directory.CreateDirectory(folder);
        // The existing file stores driver_id as INTEGER and a naive timestamp: the appended file must match.
        Query($"COPY (SELECT 1::INTEGER AS driver_id, TIMESTAMP '2024-01-01 00:00:00' AS event_timestamp, 0.5 AS conv_rate, [1, 2]::BIGINT[] AS tags) TO '{folder}/old.parquet' (FORMAT parquet)");
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _root });
        var source = new FileSource { Name = "stats", Path = "stats", TimestampField = "event_timestamp" };

        Assert.Equal(2, await store.AppendRowsAsync(source, Rows((2, Day.AddHours(1), 0.25, [3]), (3, Day.AddHours(2), 0.75, []))));

        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(2, files.Count);
        Assert.Matches("^push-[0-9]{8}T[0-9]{13}Z-[0-9a-f]{32}\\.parquet$", files[1 - files.IndexOf("old.parquet")]);
        Assert.Equal("INTEGER|TIMESTAMP", Query($"SELECT string_agg(DISTINCT column_type, '|' ORDER BY column_type) FROM (DESCRIBE SELECT driver_id, event_timestamp FROM read_parquet('{folder}/push-*.parquet'))"));
        Assert.Equal("1:0.5:[1, 2];2:0.25:[3];3:0.75:[]", Query($"SELECT string_agg(driver_id || ':' || conv_rate || ':' || tags::VARCHAR, ';' ORDER BY driver_id) FROM read_parquet('{folder}/**/*.parquet', union_by_name = true)"));
        Assert.Equal("2024-01-01 01:00:00", Query($"SELECT event_timestamp::VARCHAR FROM read_parquet('{folder}/**/*.parquet') WHERE driver_id = 2"));
    }

    [Fact]
    public async Task A_single_file_source_is_rewritten_with_the_old_and_the_new_rows()
    {
        var file = Path.Combine(_root, "stats.parquet");
        Query($"COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0.5 AS conv_rate, 7 AS other, [1]::BIGINT[] AS tags) TO '{file}' (FORMAT parquet)");
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _root });
        var source = new FileSource { Name = "stats", Path = "stats.parquet", TimestampField = "event_timestamp" };

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => store.AppendRowsAsync(source, Rows((10 + i, Day.AddHours(i), 0.1 * i, [i])))));

        Assert.Equal(["stats.parquet"], Directory.GetFiles(_root).Select(Path.GetFileName));
        // Concurrent rewrites of one file go one at a time: none is lost. Columns the push lacks read as NULL.
        Assert.Equal("1:7;10:;11:;12:;13:", Query($"SELECT string_agg(driver_id || ':' || coalesce(other::VARCHAR, ''), ';' ORDER BY driver_id) FROM read_parquet('{file}')"));
    }

    [Fact]
    public async Task Files_replaced_in_quick_succession_are_read_whole_by_the_stores_connections()
    {
        // With DuckDB's external file cache on (its default), a file replaced within the modification time's resolution
        // was read from stale cached bytes: "No magic bytes found", "TProtocolException: Invalid data", or lost rows, in
        // about half of the runs of this loop. The store turns that cache off; this is the pattern of a push rewriting a
        // single-file source while other connections read its schema.
        var file = Path.Combine(_root, "hot.parquet");
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _root });
        using (var setup = store.Connect())
        {
            Assert.Equal("false", setup.QueryScalar("SELECT current_setting('enable_external_file_cache')::VARCHAR"));
            setup.Execute($"COPY (SELECT 0 AS id) TO {Sql.Literal(file)} (FORMAT parquet)");
        }
        using var gate = new SemaphoreSlim(1, 1);
        for (var round = 0; round < 100; round++)
        {
            var next = round * 4;
            await Task.WhenAll(Enumerable.Range(1, 4).Select(i => Task.Run(() =>
            {
                using var connection = store.Connect();
                connection.QueryScalar($"SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet({Sql.Literal(file)}))");
                var temp = Path.Combine(_root, $".{Guid.NewGuid():N}.tmp");
                gate.Wait();
                try
                {
                    connection.Execute($"COPY (SELECT * FROM read_parquet({Sql.Literal(file)}) UNION ALL SELECT {next + i}) TO {Sql.Literal(temp)} (FORMAT parquet)");
                    File.Move(temp, file, overwrite: true);
                }
                finally
                {
                    gate.Release();
                }
            })));
            using var reader = store.Connect();
            Assert.Equal((long)(next + 5), reader.QueryScalar($"SELECT count(*) FROM read_parquet({Sql.Literal(file)})"));
        }
    }

    [Fact]
    public async Task Reads_of_a_single_file_source_see_it_whole_while_appends_replace_it()
    {
        // A parity check or materialization reads a single-file source through several DuckDB statements that each open the
        // path; a push to offline replaces that file by rename. Every read must succeed and see the rows of one version.
        var file = Path.Combine(_root, "live.parquet");
        Query($"COPY (SELECT range AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0.5 AS conv_rate, [1]::BIGINT[] AS tags FROM range(1, 300001)) TO '{file}' (FORMAT parquet)");
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _root });
        var source = new FileSource { Name = "live", Path = "live.parquet", TimestampField = "event_timestamp" };
        var view = new FeatureView
        {
            Name = "live_stats", Entities = ["driver"], Source = "live",
            Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("tags", new(ScalarType.Int64, IsList: true))],
        };
        var query = new LatestRowsQuery
        {
            View = view, Source = source, JoinKeys = ["driver_id"], Features = ["conv_rate", "tags"],
            Start = Day.AddDays(-1), End = Day.AddDays(30),
        };
        const int appends = 40, batchSize = 25;
        using var writing = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var seen = new List<int>();
            while (!writing.IsCancellationRequested)
            {
                Assert.Equal(4, (await store.GetSourceSchemaAsync(source)).Count);
                var count = 0;
                await foreach (var row in store.ReadLatestRowsAsync(query)) count++;
                seen.Add(count);
            }
            return seen;
        })).ToList();
        for (var i = 0; i < appends; i++)
        {
            var first = 1000 + i * batchSize;
            await store.AppendRowsAsync(source, Rows(Enumerable.Range(first, batchSize).Select(d => ((long)d, Day.AddHours(1), 0.25, new long[] { d })).ToArray()));
        }
        writing.Cancel();
        foreach (var seen in await Task.WhenAll(readers))
        {
            // Each read saw the 300,000 original drivers plus a whole number of appended batches, never fewer than before.
            Assert.All(seen, count => Assert.Equal(0, (count - 300_000) % batchSize));
            Assert.Equal(seen.Order(), seen);
        }
        Assert.Equal((300_000 + appends * batchSize).ToString(), Query($"SELECT count(*) FROM read_parquet('{file}')"));
    }

    [Fact]
    public async Task An_append_that_skips_stored_copies_adds_only_the_rows_a_single_file_or_a_table_lacks()
    {
        // What a push retry that took over from a dead attempt appends: the dead attempt's rows may be there already.
        var file = Path.Combine(_root, "retry.parquet");
        Query($"COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 0.5 AS conv_rate, [1]::BIGINT[] AS tags) TO '{file}' (FORMAT parquet)");
        using var store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _root });
        var source = new FileSource { Name = "retry", Path = "retry.parquet", TimestampField = "event_timestamp" };
        var first = Rows((10, Day, 0.1, [1]), (11, Day, 0.2, []));
        Assert.Equal(2, await store.AppendRowsAsync(source, first));
        var retry = Rows((10, Day, 0.1, [1]), (11, Day, 0.2, []), (12, Day, 0.3, [3])) with { SkipStoredCopies = true };
        Assert.Equal(1, await store.AppendRowsAsync(source, retry));
        Assert.Equal(0, await store.AppendRowsAsync(source, retry));
        Assert.Equal("1;10;11;12", Query($"SELECT string_agg(driver_id::VARCHAR, ';' ORDER BY driver_id) FROM read_parquet('{file}')"));

        var connectionString = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES")
            ?? throw new InvalidOperationException("GRANARY_TEST_POSTGRES is not set: eval \"$(deploy/test-services.sh env)\" first");
        var schema = "granary_skip_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(connectionString, $"CREATE SCHEMA {schema}; CREATE TABLE {schema}.stats (driver_id bigint, event_timestamp timestamptz, conv_rate double precision, tags bigint[])");
        try
        {
            using var postgres = new PostgresOfflineStore(new PostgresOfflineStoreOptions { ConnectionString = connectionString });
            var table = new PostgresSource { Name = "stats", Table = $"{schema}.stats", TimestampField = "event_timestamp" };
            Assert.Equal(2, await postgres.AppendRowsAsync(table, first));
            Assert.Equal(1, await postgres.AppendRowsAsync(table, retry));
            Assert.Equal(0, await postgres.AppendRowsAsync(table, retry));
            Assert.Equal("10;11;12", await QueryAsync(connectionString, $"SELECT string_agg(driver_id::text, ';' ORDER BY driver_id) FROM {schema}.stats"));
        }
        finally
        {
            await ExecuteAsync(connectionString, $"DROP SCHEMA {schema} CASCADE");
        }
    }

    [Fact]
    public async Task A_postgres_table_takes_the_rows_in_one_copy_and_a_bad_value_leaves_it_unchanged()
    {
        var connectionString = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES")
            ?? throw new InvalidOperationException("GRANARY_TEST_POSTGRES is not set: eval \"$(deploy/test-services.sh env)\" first");
        var schema = "granary_append_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(connectionString, $"CREATE SCHEMA {schema}; CREATE TABLE {schema}.stats (driver_id integer, event_timestamp timestamp, conv_rate real, tags bigint[])");
        try
        {
            using var store = new PostgresOfflineStore(new PostgresOfflineStoreOptions { ConnectionString = connectionString });
            var source = new PostgresSource { Name = "stats", Table = $"{schema}.stats", TimestampField = "event_timestamp" };
            Assert.Equal(2, await store.AppendRowsAsync(source, Rows((1, Day.AddHours(1).ToOffset(TimeSpan.FromHours(9)), 0.5, [1, 2]), (2, Day, 0.25, []))));

            // A driver id beyond the integer column's range fails the whole COPY: the first row of the batch is not kept either.
            await Assert.ThrowsAnyAsync<Exception>(() => store.AppendRowsAsync(source, Rows((3, Day, 0.1, []), (1L << 40, Day, 0.1, []))));

            var query = await QueryAsync(connectionString, $"SELECT string_agg(driver_id || '@' || event_timestamp || '=' || conv_rate || tags::text, ';' ORDER BY driver_id) FROM {schema}.stats");
            Assert.Equal("1@2024-01-01 01:00:00=0.5{1,2};2@2024-01-01 00:00:00=0.25{}", query);

            var missing = await Assert.ThrowsAsync<OfflineAppendException>(() => store.AppendRowsAsync(source with { Table = $"{schema}.stats" },
                new OfflineRowBatch([new OfflineColumn("nope", new ValueType(ScalarType.Int64))], [[1L]])));
            Assert.Equal($"table '{schema}.stats' of source 'stats' has no column 'nope'; its columns: driver_id, event_timestamp, conv_rate, tags", missing.Message);
            var query2 = await Assert.ThrowsAsync<OfflineAppendException>(() => store.AppendRowsAsync(new PostgresSource { Name = "q", Query = "SELECT 1" }, Rows()));
            Assert.Equal("PostgreSQL source 'q' is a query; pushes can only append to a table source", query2.Message);
        }
        finally
        {
            await ExecuteAsync(connectionString, $"DROP SCHEMA {schema} CASCADE");
        }
    }

    private static string? Query(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SET TimeZone = 'UTC'; " + sql;
        if (sql.StartsWith("COPY", StringComparison.Ordinal)) { command.ExecuteNonQuery(); return null; }
        return command.ExecuteScalar()?.ToString();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string?> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
