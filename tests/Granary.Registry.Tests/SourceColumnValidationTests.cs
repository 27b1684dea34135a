using Granary.Cli;
using Granary.Offline;
using Granary.Hosting;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Offline.Postgres;
using Granary.Repository;
using Npgsql;

namespace Granary.Registry.Tests;

/// <summary>Source columns are checked against the real data: Parquet files through DuckDB, tables through PostgreSQL.</summary>
public sealed class SourceColumnValidationTests : IDisposable, IClassFixture<PostgresDatabase>
{
    private const string Driver = "features/driver.yaml";
    private readonly TestRepository _repo = new();
    private readonly PostgresDatabase _database;
    private readonly List<IDisposable> _stores = [];

    public SourceColumnValidationTests(PostgresDatabase database)
    {
        _database = database;
        SampleData.Write(_repo.Root, DateTimeOffset.Parse("2026-03-01T00:00:00Z"));
    }

    public void Dispose()
    {
        foreach (var s in _stores) s.Dispose();
        _repo.Dispose();
    }

    private async Task ValidateAsync()
    {
        var repository = _repo.Load();
        var duckDb = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _repo.Root });
        _stores.Add(duckDb);
        var stores = new List<IOfflineStore> { duckDb };
        if (repository.Config.OfflineStore.ConnectionString is { } pg)
        {
            var postgres = new PostgresOfflineStore(new PostgresOfflineStoreOptions { ConnectionString = pg });
            _stores.Add(postgres);
            stores.Add(postgres);
        }
        var options = new GranaryOptions();
        options.LoadFrom(repository.Config, _repo.Root);
        await RepositoryValidator.ValidateAsync(repository, new OfflineSourceSchemaReader(stores, options));
    }

    [Fact]
    public async Task Sample_repository_matches_its_parquet_files()
        => await ValidateAsync();

    [Fact]
    public async Task A_feature_missing_from_the_parquet_file_is_named_with_the_real_columns()
    {
        _repo.Replace(Driver, "- name: avg_daily_trips", "- name: avg_daily_trip");
        var line = _repo.LineOf(Driver, "avg_daily_trip\n");
        var e = await Assert.ThrowsAsync<RepositoryValidationException>(ValidateAsync);
        Assert.Equal($"{Driver}:{line}: feature view 'driver_hourly_stats': feature 'avg_daily_trip' is not a column of source 'driver_stats_source' (data/driver_stats.parquet); columns: acc_rate, avg_daily_trips, conv_rate, created, driver_id, event_timestamp", e.Message);
    }

    [Fact]
    public async Task A_feature_declared_with_another_kind_of_type_than_its_column_is_named()
    {
        _repo.Replace(Driver, "- name: avg_daily_trips\n        type: Int64", "- name: avg_daily_trips\n        type: String");
        var line = _repo.LineOf(Driver, "- name: avg_daily_trips");
        var e = await Assert.ThrowsAsync<RepositoryValidationException>(ValidateAsync);
        Assert.Equal($"{Driver}:{line}: feature view 'driver_hourly_stats': feature 'avg_daily_trips' is declared String, but column 'avg_daily_trips' of source 'driver_stats_source' holds Int64 (BIGINT)", e.Message);
    }

    [Fact]
    public async Task Numeric_widths_may_differ_between_declaration_and_column()
    {
        _repo.Replace(Driver, "- name: avg_daily_trips\n        type: Int64", "- name: avg_daily_trips\n        type: Float64");
        await ValidateAsync();
    }

    [Fact]
    public async Task A_folder_source_is_checked_against_the_parquet_files_inside_it()
    {
        var folder = Path.Combine(_repo.Root, "data", "driver_stats");
        Directory.CreateDirectory(Path.Combine(folder, "month=2026-02"));
        File.Move(Path.Combine(_repo.Root, "data", "driver_stats.parquet"), Path.Combine(folder, "month=2026-02", "part-0.parquet"));
        _repo.Replace(Driver, "path: data/driver_stats.parquet", "path: data/driver_stats");
        await ValidateAsync();

        _repo.Replace(Driver, "- name: avg_daily_trips", "- name: daily_trips");
        var e = await Assert.ThrowsAsync<RepositoryValidationException>(ValidateAsync);
        Assert.Contains("feature 'daily_trips' is not a column of source 'driver_stats_source' (data/driver_stats)", e.Message);
    }

    [Fact]
    public async Task A_wrong_timestamp_field_is_named()
    {
        _repo.Replace(Driver, "timestamp_field: event_timestamp", "timestamp_field: event_ts");
        var line = _repo.LineOf(Driver, "timestamp_field: event_ts");
        var e = await Assert.ThrowsAsync<RepositoryValidationException>(ValidateAsync);
        Assert.Equal($"{Driver}:{line}: data source 'driver_stats_source': timestamp_field 'event_ts' is not a column of data/driver_stats.parquet; columns: acc_rate, avg_daily_trips, conv_rate, created, driver_id, event_timestamp", e.Message);
    }

    [Fact]
    public async Task A_missing_parquet_file_is_reported_at_its_path()
    {
        _repo.Replace(Driver, "path: data/driver_stats.parquet", "path: data/nowhere.parquet");
        var line = _repo.LineOf(Driver, "path: data/nowhere.parquet");
        var e = await Assert.ThrowsAsync<RepositoryValidationException>(ValidateAsync);
        var error = Assert.Single(e.Errors);
        Assert.Equal(new SourceLocation(Driver, line), error.Location);
        Assert.StartsWith("data source 'driver_stats_source' cannot be read (data/nowhere.parquet): ", error.Message);
    }

    [Fact]
    public async Task Field_mapping_lets_a_feature_use_another_name_than_its_column()
    {
        _repo.Replace(Driver, "created_timestamp_field: created", "created_timestamp_field: created\n    field_mapping:\n      avg_daily_trips: trips_per_day");
        _repo.Replace(Driver, "- name: avg_daily_trips", "- name: trips_per_day");
        await ValidateAsync();
    }

    [Fact]
    public async Task A_column_missing_from_a_postgres_table_is_named_with_the_tables_columns()
    {
        var table = "driver_stats_" + Guid.NewGuid().ToString("N")[..8];
        await using (var connection = new NpgsqlConnection(_database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE TABLE {table} (driver_id BIGINT, event_timestamp TIMESTAMPTZ, conv_rate REAL)", connection);
            await create.ExecuteNonQueryAsync();
        }
        var config = _repo.Read("granary.yaml").Replace("offline_store:\n  type: duckdb", $"offline_store:\n  type: postgres\n  connection_string: \"{_database.ConnectionString}\"", StringComparison.Ordinal);
        _repo.Write("granary.yaml", config);
        _repo.Write("features/postgres.yaml", $"""
            sources:
              - name: pg_driver_stats
                type: postgres
                table: {table}
                timestamp_field: event_timestamp
            feature_views:
              - name: pg_driver_view
                entities: [driver]
                source: pg_driver_stats
                schema:
                  - name: conv_rate
                    type: Float32
                  - name: acc_rate
                    type: Float32
            """);
        var e = await Assert.ThrowsAsync<RepositoryValidationException>(ValidateAsync);
        Assert.Equal($"features/postgres.yaml:13: feature view 'pg_driver_view': feature 'acc_rate' is not a column of source 'pg_driver_stats' (table {table}); columns: conv_rate, driver_id, event_timestamp", e.Message);
    }
}
