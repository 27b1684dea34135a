using Xunit;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Offline.Postgres;
using Npgsql;

namespace Granary.Offline.Tests;

/// <summary>
/// <see cref="IOfflineStore.DeleteRowsAsync"/> (erasure) on both stores: only the entity's rows go, rows with a NULL key and
/// other entities stay, files without the entity are left as they are, and a query source is refused.
/// </summary>
public sealed class OfflineEraseTests : IClassFixture<PostgresSchemaFixture>, IDisposable
{
    private readonly PostgresSchemaFixture _database;
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-offline-erase-").FullName;
    private readonly DuckDbOfflineStore _duck;

    public OfflineEraseTests(PostgresSchemaFixture database)
    {
        _database = database;
        _duck = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 });
    }

    public void Dispose()
    {
        _duck.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static readonly KeyValuePair<string, object>[] Driver7 = [new("driver_id", 7L), new("region", "eu")];

    private void Write(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        connection.Execute(sql.Replace("{dir}", _folder, StringComparison.Ordinal));
    }

    private List<(long? Driver, string? Region)> Keys(string glob)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT driver_id, region FROM read_parquet('{Path.Combine(_folder, glob)}', union_by_name = true) ORDER BY ALL";
        using var reader = command.ExecuteReader();
        var rows = new List<(long?, string?)>();
        while (reader.Read()) rows.Add((reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        return rows;
    }

    [Fact]
    public async Task A_folder_loses_only_the_entitys_rows_and_untouched_files_keep_their_bytes()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "pushed"));
        Write("""
            COPY (SELECT * FROM (VALUES (7::BIGINT, 'eu', 1.0), (7::BIGINT, 'us', 2.0), (NULL::BIGINT, 'eu', 3.0), (8::BIGINT, 'eu', 4.0)) t(driver_id, region, speed))
              TO '{dir}/pushed/push-a.parquet' (FORMAT parquet);
            COPY (SELECT * FROM (VALUES (7::BIGINT, 'eu', 5.0)) t(driver_id, region, speed)) TO '{dir}/pushed/push-b.parquet' (FORMAT parquet);
            COPY (SELECT * FROM (VALUES (9::BIGINT, 'eu', 6.0)) t(driver_id, region, speed)) TO '{dir}/pushed/push-c.parquet' (FORMAT parquet);
            """);
        var untouched = await File.ReadAllBytesAsync(Path.Combine(_folder, "pushed", "push-c.parquet"));
        var source = new FileSource { Name = "pushed", Path = "pushed", TimestampField = "event_timestamp" };

        Assert.Equal(2, await _duck.DeleteRowsAsync(source, Driver7));

        // ORDER BY puts NULLs last in DuckDB; the NULL-key row stays.
        Assert.Equal([(7L, "us"), (8L, "eu"), (9L, "eu"), (null, "eu")], Keys("pushed/**/*.parquet"));
        Assert.Equal(untouched, await File.ReadAllBytesAsync(Path.Combine(_folder, "pushed", "push-c.parquet")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "pushed"), "*.tmp"));
        Assert.Equal(0, await _duck.DeleteRowsAsync(source, Driver7));
    }

    [Fact]
    public async Task A_single_file_is_rewritten_and_a_missing_source_deletes_nothing()
    {
        Write("COPY (SELECT * FROM (VALUES (7::BIGINT, 'eu'), (8::BIGINT, 'eu')) t(driver_id, region)) TO '{dir}/one.parquet' (FORMAT parquet);");
        Assert.Equal(1, await _duck.DeleteRowsAsync(new FileSource { Name = "one", Path = "one.parquet" }, Driver7));
        Assert.Equal([(8L, "eu")], Keys("one.parquet"));
        Assert.Equal(0, await _duck.DeleteRowsAsync(new FileSource { Name = "none", Path = "not_there" }, Driver7));
    }

    [Fact]
    public async Task A_postgres_table_loses_only_the_entitys_rows_and_a_query_source_is_refused()
    {
        var table = $"{_database.Schema}.pushed";
        _database.Execute($"CREATE TABLE {table} (driver_id BIGINT, region TEXT, speed DOUBLE PRECISION); " +
                          $"INSERT INTO {table} VALUES (7, 'eu', 1), (7, 'eu', 2), (7, 'us', 3), (NULL, 'eu', 4), (8, 'eu', 5)");
        using var store = new PostgresOfflineStore(new PostgresOfflineStoreOptions { ConnectionString = _database.ConnectionString, DuckDb = new DuckDbEngineOptions { MemoryLimit = "512MB", Threads = 2 } });

        Assert.Equal(2, await store.DeleteRowsAsync(new PostgresSource { Name = "pushed", Table = table }, Driver7));

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        Assert.Equal(3L, await command.ExecuteScalarAsync());
        var refused = await Assert.ThrowsAsync<OfflineAppendException>(() => store.DeleteRowsAsync(new PostgresSource { Name = "q", Query = $"SELECT * FROM {table}" }, Driver7));
        Assert.Contains("'q' is a query", refused.Message);
    }
}
