using Granary.DuckDb;
using Xunit;

namespace Granary.Offline.Tests;

public sealed class DuckDbBindingTests : IDisposable
{
    private readonly DuckDbDatabase _database = DuckDbDatabase.Open(settings: new Dictionary<string, string> { ["threads"] = "2" });
    private readonly DuckDbConnection _connection;
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-duckdb-").FullName;

    public DuckDbBindingTests()
    {
        _connection = _database.Connect();
        // TimeZone needs the icu extension, which is loaded on first use, so it is set on the connection rather than at open.
        _connection.Execute("SET TimeZone = 'UTC'");
    }

    [Fact]
    public void Library_reports_its_version()
    {
        Assert.StartsWith("v1.", DuckDbDatabase.LibraryVersion);
    }

    [Fact]
    public void Reads_typed_values_and_nulls()
    {
        using var rows = _connection.QueryRows("""
            SELECT 42::BIGINT AS l, 7::INTEGER AS i, 1.5::DOUBLE AS d, 2.5::FLOAT AS f, true AS b,
                   'short' AS s, 'a string longer than twelve bytes' AS long_s, '\x01\x02'::BLOB AS blob,
                   TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+01:00' AS tstz,
                   [1, 2, NULL]::BIGINT[] AS list, NULL::BIGINT AS missing, 12.34::DECIMAL(10,2) AS dec
            """);
        Assert.True(rows.Read());
        Assert.Equal(42L, rows.GetValue(0));
        Assert.Equal(7, rows.GetValue(1));
        Assert.Equal(1.5, rows.GetValue(2));
        Assert.Equal(2.5f, rows.GetValue(3));
        Assert.Equal(true, rows.GetValue(4));
        Assert.Equal("short", rows.GetValue(5));
        Assert.Equal("a string longer than twelve bytes", rows.GetValue(6));
        Assert.Equal(new byte[] { 1, 2 }, rows.GetValue(7));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, 123).AddTicks(4560), rows.GetValue(8));
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 2, 4, 5, TimeSpan.Zero), rows.GetValue(9));
        Assert.Equal(new object?[] { 1L, 2L, null }, (object?[])rows.GetValue(10)!);
        Assert.True(rows.IsNull(11));
        Assert.Null(rows.GetValue(11));
        Assert.Equal(12.34m, rows.GetValue(12));
        Assert.Equal("TIMESTAMP WITH TIME ZONE", rows.Columns[9].SqlType);
        Assert.Equal("BIGINT[]", rows.Columns[10].SqlType);
        Assert.False(rows.Read());
    }

    [Fact]
    public void Streams_large_results_chunk_by_chunk_with_validity()
    {
        using var result = _connection.Query("SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 2 END AS v FROM range(100000) t(i)");
        long rows = 0, sum = 0, nulls = 0;
        while (result.NextChunk() is { } chunk)
        {
            var ids = chunk.GetVector(0).GetValues<long>(chunk.RowCount);
            var values = chunk.GetVector(1);
            var raw = values.GetValues<long>(chunk.RowCount);
            for (var r = 0; r < chunk.RowCount; r++)
            {
                if (!values.IsValid(r)) { nulls++; Assert.Equal(0, ids[r] % 3); }
                else sum += raw[r];
            }
            rows += chunk.RowCount;
        }
        Assert.Equal(100000, rows);
        Assert.Equal(33334, nulls);
        var expected = Enumerable.Range(0, 100000).Where(i => i % 3 != 0).Sum(i => 2L * i);
        Assert.Equal(expected, sum);
    }

    [Fact]
    public void Prepared_statements_bind_parameters()
    {
        using var statement = _connection.Prepare("SELECT $1::BIGINT + 1, $2 || '!', $3::TIMESTAMPTZ, $4 IS NULL");
        Assert.Equal(4, statement.ParameterCount);
        statement.Bind(1, 41L);
        statement.Bind(2, "héllo");
        statement.Bind(3, new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)));
        statement.Bind(4, null);
        using var rows = new DuckDbRowReader(statement.Query());
        Assert.True(rows.Read());
        Assert.Equal(42L, rows.GetValue(0));
        Assert.Equal("héllo!", rows.GetValue(1));
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 5, 8, 9, TimeSpan.Zero), rows.GetValue(2));
        Assert.Equal(true, rows.GetValue(3));
    }

    [Fact]
    public void Appender_inserts_rows_and_copy_writes_parquet()
    {
        _connection.Execute("CREATE TABLE t (id BIGINT, name VARCHAR, score DOUBLE, ts TIMESTAMPTZ, ok BOOLEAN)");
        using (var appender = _connection.CreateAppender("t"))
        {
            for (var i = 0; i < 5000; i++)
            {
                appender.Append((long)i);
                if (i % 2 == 0) appender.Append($"name-{i}"); else appender.AppendNull();
                appender.Append(i / 10.0);
                appender.Append(DateTimeOffset.UnixEpoch.AddSeconds(i));
                appender.Append(i % 3 == 0);
                appender.EndRow();
            }
        }
        var path = Path.Combine(_folder, "t.parquet");
        using (var copy = _connection.Prepare($"COPY t TO '{path}' (FORMAT parquet)"))
        {
            var progress = new List<double>();
            Assert.Equal(5000, copy.ExecuteWithProgress(progress.Add));
            Assert.Equal(100, progress[^1]);
        }
        Assert.Equal(2500L, _connection.QueryScalar($"SELECT count(name) FROM read_parquet('{path}')"));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(4999), _connection.QueryScalar($"SELECT max(ts) FROM read_parquet('{path}')"));
    }

    [Fact]
    public void Errors_carry_duckdbs_message()
    {
        var error = Assert.Throws<DuckDbException>(() => _connection.Execute("SELECT * FROM no_such_table"));
        Assert.Contains("no_such_table", error.Message);
        Assert.Contains("Catalog Error", error.Message);
        var prepare = Assert.Throws<DuckDbException>(() => _connection.Prepare("SELEC 1"));
        Assert.Contains("syntax error", prepare.Message);
        var appender = Assert.Throws<DuckDbException>(() => _connection.CreateAppender("missing_table"));
        Assert.Contains("missing_table", appender.Message);
        // The connection stays usable after errors.
        Assert.Equal(1, _connection.QueryScalar("SELECT 1"));
    }

    [Fact]
    public void Streaming_query_errors_surface_when_fetching()
    {
        var error = Assert.Throws<DuckDbException>(() =>
        {
            using var rows = _connection.QueryRows("SELECT CAST(CASE WHEN i = 5000 THEN 'x' ELSE i::VARCHAR END AS INTEGER) FROM range(10000) t(i)");
            while (rows.Read()) { }
        });
        Assert.Contains("Could not convert", error.Message);
    }

    [Fact]
    public void Cancellation_interrupts_a_long_statement()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        using var statement = _connection.Prepare("SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3");
        Assert.ThrowsAny<OperationCanceledException>(() => statement.ExecuteWithProgress(null, cancel.Token));
    }

    [Fact]
    public void Loader_lists_the_environment_variable_first()
    {
        var configured = Environment.GetEnvironmentVariable(DuckDbLibraryLoader.EnvironmentVariable);
        var candidates = DuckDbLibraryLoader.Candidates().ToList();
        Assert.Contains(candidates, c => c.EndsWith("node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so", StringComparison.Ordinal));
        if (!string.IsNullOrEmpty(configured)) Assert.StartsWith(configured.TrimEnd('/'), candidates[0]);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _database.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
