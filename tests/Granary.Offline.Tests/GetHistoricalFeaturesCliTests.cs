using System.Globalization;
using Granary.Offline.DuckDb;
using Granary.Testing;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>The <c>granary get-historical-features</c> command end to end: init a sample repository, apply, retrieve.</summary>
public sealed class GetHistoricalFeaturesCliTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-cli-offline-").FullName;
    private string Repo => Path.Combine(_folder, "repo");

    private static Task<(int ExitCode, string Output)> Cli(params string[] args) => CliRunner.RunAsync(args);

    public async Task InitializeAsync()
    {
        var init = await Cli("init", Repo);
        Assert.True(init.ExitCode == 0, init.Output);
        var apply = await Cli("--repo", Repo, "apply");
        Assert.True(apply.ExitCode == 0, apply.Output);
    }

    private string WriteCsv(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string Hour(int hoursAgo)
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0).AddHours(-hoursAgo).AddMinutes(30).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_feature_service_retrieval_writes_point_in_time_rows_with_on_demand_features()
    {
        var entities = WriteCsv("entities.csv",
            "driver_id,customer_id,event_timestamp,val_to_add,val_to_add_2\n" +
            $"1001,201,{Hour(24)},1,10\n1002,202,{Hour(48)},2,20\n9999,201,{Hour(24)},3,30\n");
        var output = Path.Combine(_folder, "training.parquet");
        var (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", entities, "--service", "driver_activity_v1", "--out", output);
        Assert.True(code == 0, text);
        Assert.Contains("Wrote 3 rows (3 entity rows)", text);

        using var store = new DuckDbOfflineStore();
        using var connection = store.Connect();
        var (columns, rows) = TableData.ReadFile(connection, output);
        Assert.Equal(["driver_id", "customer_id", "event_timestamp", "val_to_add", "val_to_add_2", "conv_rate", "acc_rate",
            "current_balance", "avg_passenger_count", "lifetime_trip_count", "conv_rate_plus_val1", "conv_rate_plus_val2"], columns);
        var convRate = Convert.ToDouble(rows[0][5], CultureInfo.InvariantCulture);
        Assert.Equal(convRate + 1, Convert.ToDouble(rows[0][10], CultureInfo.InvariantCulture), 6);
        Assert.Equal(convRate + 10, Convert.ToDouble(rows[0][11], CultureInfo.InvariantCulture), 6);
        Assert.NotNull(rows[1][5]);
        Assert.Null(rows[2][5]);      // unknown driver: no match, row kept
        Assert.NotNull(rows[2][7]);   // ... but its customer still matches
    }

    [Fact]
    public async Task Feature_references_with_full_names_write_csv()
    {
        var entities = WriteCsv("refs.csv", $"driver_id,event_timestamp\n1003,{Hour(5)}\n");
        var output = Path.Combine(_folder, "refs-out.csv");
        var (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", entities,
            "--features", "driver_hourly_stats:conv_rate,driver_hourly_stats:avg_daily_trips", "--out", output, "--full-feature-names");
        Assert.True(code == 0, text);
        var lines = File.ReadAllLines(output);
        Assert.Equal("driver_id,event_timestamp,driver_hourly_stats__conv_rate,driver_hourly_stats__avg_daily_trips", lines[0]);
        Assert.Equal(2, lines.Length);
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error()
    {
        var entities = WriteCsv("ok.csv", $"driver_id,event_timestamp\n1001,{Hour(5)}\n");
        var output = Path.Combine(_folder, "bad.parquet");

        var (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", entities, "--features", "driver_hourly_stats:speed", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("feature view 'driver_hourly_stats' has no feature 'speed'; known: conv_rate, acc_rate, avg_daily_trips", text);

        var noTime = WriteCsv("no-time.csv", "driver_id,label\n1001,a\n");
        (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", noTime, "--features", "driver_hourly_stats:conv_rate", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("entity dataframe has no timestamp column: add an 'event_timestamp' column (columns: driver_id, label)", text);

        var noKey = WriteCsv("no-key.csv", $"rider,event_timestamp\n1,{Hour(5)}\n");
        (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", noKey, "--features", "driver_hourly_stats:conv_rate", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("entity dataframe has no column 'driver_id', which feature view 'driver_hourly_stats' joins on", text);

        (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", entities, "--features", "driver_hourly_stats:conv_rate", "--service", "driver_activity_v1", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("pass exactly one of --features", text);

        (code, text) = await Cli("--repo", Repo, "get-historical-features", "--entities", Path.Combine(_folder, "missing.csv"), "--service", "driver_activity_v1", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("missing.csv' does not exist", text);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}
