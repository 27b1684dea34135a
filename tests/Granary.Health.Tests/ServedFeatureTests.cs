using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Granary.FeatureHealth;
using Granary.Offline;
using Granary.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Health.Tests;

/// <summary>
/// Feature logging and drift on a real server: served rows land in the offline store (Parquet) with their values and
/// statuses; a baseline like the served distribution does not drift, a shifted one does (fixed seeds).
/// </summary>
public sealed class ServedFeatureTests(ServedFeatureTests.Server server) : IClassFixture<ServedFeatureTests.Server>
{
    /// <summary>The health server after five reads of drivers 1-60 through the feature service (300 logged rows).</summary>
    public sealed class Server : IAsyncLifetime
    {
        public HealthServer Health { get; } = new();
        public string LogFolder => Path.Combine(Health.RepositoryRoot, "data", "feature_logs", "driver_stats");

        public async Task InitializeAsync()
        {
            await Health.InitializeAsync();
            // The gateway's logger learns its settings from the silo after start-up; until then it logs nothing.
            for (var i = 0; i < 600 && !Health.FeatureLogger.Ready; i++) await Task.Delay(100);
            if (!Health.FeatureLogger.Ready) throw new InvalidOperationException("fixture: feature logging has no settings after 60 s");
            var body = JsonSerializer.Serialize(new { feature_service = "driver_service", entities = new { driver_id = Enumerable.Range(1, 60).ToArray() } });
            for (var i = 0; i < 5; i++)
            {
                using var response = await Health.Http.PostAsync("/get-online-features", new StringContent(body, Encoding.UTF8, "application/json"));
                response.EnsureSuccessStatusCode();
            }
            if (!await Health.FeatureLogger.DrainAsync(TimeSpan.FromSeconds(60))) throw new InvalidOperationException("fixture: feature log not written within 60 s");
        }

        public Task DisposeAsync() => Health.DisposeAsync();
    }

    private HealthServer Health => server.Health;

    [Fact]
    public void Served_rows_are_logged_to_the_offline_store_with_service_keys_values_and_statuses()
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT count(*), count(DISTINCT log_id), min(feature_service), max(feature_service), count(DISTINCT driver_id),
                   sum(conv_rate), min(conv_rate__status), max(tier__status), count(*) FILTER (WHERE tier = 'gold')
            FROM read_parquet('{server.LogFolder}/**/*.parquet', union_by_name = true)
            """;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(300L, Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        Assert.Equal(300L, Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
        Assert.Equal("driver_service", reader.GetString(2));
        Assert.Equal("driver_service", reader.GetString(3));
        Assert.Equal(60L, Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture));
        // 5 x (0.01 + ... + 0.60) = 5 x 18.3
        Assert.Equal(91.5, reader.GetDouble(5), 9);
        Assert.Equal("PRESENT", reader.GetString(6));
        Assert.Equal("PRESENT", reader.GetString(7));
        Assert.Equal(100L, Convert.ToInt64(reader.GetValue(8), CultureInfo.InvariantCulture));
        Assert.Equal(0, Health.FeatureLogger.Dropped);
    }

    [Fact]
    public async Task The_log_reads_back_through_the_offline_store_within_a_window()
    {
        var store = Health.Store.Services.GetServices<IOfflineStore>().First();
        var snapshot = await Health.Store.Grains.GetGrain<Grains.Registry.IRegistryGrain>(Health.Project).GetSnapshotAsync();
        var view = snapshot.FindFeatureView("driver_stats")!;
        var now = DateTimeOffset.UtcNow;
        var inWindow = await Count(FeatureLogTable.ReadAsync(store, "data/feature_logs", Health.RepositoryRoot, view, ["conv_rate", "tier"], now.AddHours(-1), now.AddMinutes(1)));
        var before = await Count(FeatureLogTable.ReadAsync(store, "data/feature_logs", Health.RepositoryRoot, view, ["conv_rate"], now.AddDays(-2), now.AddDays(-1)));
        Assert.Equal(300, inWindow);
        Assert.Equal(0, before);
    }

    [Fact]
    public async Task A_baseline_drawn_from_the_served_distribution_does_not_drift()
    {
        var baseline = WriteBaseline("unshifted.parquet", shifted: false);
        using var response = await Health.Http.PostAsync("/drift", ParityTests.Json(new { baseline, window = "1h", views = new[] { "driver_stats" } }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.False(json.RootElement.GetProperty("drifted").GetBoolean(), body);
        var view = Assert.Single(json.RootElement.GetProperty("views").EnumerateArray());
        Assert.Equal(300, view.GetProperty("served_rows").GetInt64());
        var features = view.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("feature").GetString()!);
        Assert.Equal(["conv_rate", "tier"], features.Keys.Order());
        Assert.Equal("numeric", features["conv_rate"].GetProperty("kind").GetString());
        Assert.True(features["conv_rate"].GetProperty("psi").GetDouble() < 0.1, body);
        Assert.True(features["conv_rate"].GetProperty("ks_p").GetDouble() > 0.1, body);
        Assert.Equal("categorical", features["tier"].GetProperty("kind").GetString());
        Assert.True(features["tier"].GetProperty("chi_square_p").GetDouble() > 0.1, body);

        var (code, output) = await ParityTests.RunCliAsync("drift", "--repo", Health.RepositoryRoot, "--baseline", baseline, "--window", "1h");
        Assert.True(code == 0, output);
        Assert.Contains("conv_rate", output);
    }

    [Fact]
    public async Task A_shifted_baseline_is_flagged_per_feature_by_psi_ks_chi_square_and_null_rate()
    {
        var baseline = WriteBaseline("shifted.csv", shifted: true);
        var report = await Health.Store.Grains.GetGrain<Grains.Health.IFeatureHealthGrain>(Health.Project)
            .RunDriftAsync(new DriftRequest { Baseline = baseline, Window = TimeSpan.FromHours(1), Views = ["driver_stats"] });
        Assert.True(report.Drifted);
        var features = report.Views.Single().Features.ToDictionary(f => f.Feature);
        var conv = features["conv_rate"];
        Assert.True(conv.Drifted);
        Assert.True(conv.Psi > 0.2, $"psi {conv.Psi}");
        Assert.True(conv.KsP < 0.01, $"ks p {conv.KsP}");
        // The shifted baseline has 10% NULL conv_rate; none was served.
        Assert.Equal(-0.1, conv.NullRateDifference, 2);
        Assert.Contains(conv.Reasons, r => r.StartsWith("null rate differs", StringComparison.Ordinal));
        var tier = features["tier"];
        Assert.True(tier.Drifted);
        Assert.True(tier.ChiSquareP < 0.01, $"chi-square p {tier.ChiSquareP}");
        Assert.Equal(DriftStatistics.ChiSquareCritical(0.01, 2), tier.Threshold!.Value, 9);

        using var last = JsonDocument.Parse(await Health.Http.GetStringAsync("/api/health/drift"));
        Assert.Contains(last.RootElement.GetProperty("views").EnumerateArray(), v => v.GetProperty("feature_view").GetString() == "driver_stats");

        var (code, output) = await ParityTests.RunCliAsync("drift", "--repo", Health.RepositoryRoot, "--baseline", baseline, "--window", "1h", "--views", "driver_stats");
        Assert.True(code == 2, output);
        Assert.Contains("yes: null rate differs by -0.1", output);
    }

    [Fact]
    public async Task Drift_without_a_baseline_or_with_a_missing_file_is_400_naming_it()
    {
        using var none = await Health.Http.PostAsync("/drift", ParityTests.Json(new { window = "1h" }));
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Contains("no 'baseline'", await none.Content.ReadAsStringAsync());

        using var missing = await Health.Http.PostAsync("/drift", ParityTests.Json(new { baseline = "data/nope.parquet" }));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("nope.parquet' does not exist", await missing.Content.ReadAsStringAsync());

        using var window = await Health.Http.PostAsync("/drift", ParityTests.Json(new { baseline = "x.csv", window = "soon" }));
        Assert.Equal(HttpStatusCode.BadRequest, window.StatusCode);
        Assert.Contains("'window' 'soon'", await window.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A training set of 3,000 rows from Random(42): unshifted, conv_rate ~ U(0.01, 0.60) and tier uniform over the three
    /// served tiers (the served grid's distribution); shifted, conv_rate ~ U(0.40, 1.00) with 10% NULLs and tier 80% gold.
    /// </summary>
    private string WriteBaseline(string name, bool shifted)
    {
        var random = new Random(42);
        var csv = new StringBuilder("driver_id,event_timestamp,conv_rate,tier\n");
        string[] tiers = ["gold", "silver", "bronze"];
        for (var i = 0; i < 3000; i++)
        {
            var conv = shifted ? 0.4 + random.NextDouble() * 0.6 : 0.01 + random.NextDouble() * 0.59;
            var nullValue = shifted && random.NextDouble() < 0.1;
            var tier = shifted ? (random.NextDouble() < 0.8 ? "gold" : tiers[1 + random.Next(2)]) : tiers[random.Next(3)];
            csv.Append(CultureInfo.InvariantCulture, $"{1 + i % 60},2024-01-01T00:00:00Z,{(nullValue ? "" : conv.ToString("R", CultureInfo.InvariantCulture))},{tier}\n");
        }
        var csvPath = Path.Combine(Health.RepositoryRoot, "data", Path.ChangeExtension(name, ".csv"));
        File.WriteAllText(csvPath, csv.ToString());
        if (name.EndsWith(".csv", StringComparison.Ordinal)) return csvPath;
        var parquet = Path.Combine(Health.RepositoryRoot, "data", name);
        DuckDbScript.Run($"COPY (SELECT * FROM read_csv('{csvPath}', header = true)) TO '{parquet}' (FORMAT parquet)");
        return parquet;
    }

    private static async Task<int> Count(IAsyncEnumerable<IReadOnlyList<object?>> rows)
    {
        var n = 0;
        await foreach (var _ in rows) n++;
        return n;
    }
}
