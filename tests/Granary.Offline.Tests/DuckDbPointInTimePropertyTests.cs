using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>Randomized point-in-time joins by the DuckDB store compared row by row with the brute-force reference.</summary>
public sealed class DuckDbPointInTimePropertyTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-pit-").FullName;
    private readonly DuckDbOfflineStore _store;

    public DuckDbPointInTimePropertyTests() =>
        _store = new DuckDbOfflineStore(new DuckDbEngineOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 });

    private PointInTimeScenario Scenario(int seed, int entityRowCount = 150)
    {
        using var connection = _store.Connect();
        return PointInTimeScenario.Generate(seed, (name, data) =>
        {
            // Half the sources are folders of several files, half single files.
            var relative = name.Length % 2 == 0 ? $"{name}.parquet" : name;
            if (relative.EndsWith(".parquet", StringComparison.Ordinal))
            {
                data.WriteParquet(connection, Path.Combine(_folder, relative));
            }
            else
            {
                var half = data.Rows.Count / 2;
                new TableData(data.Columns, data.Rows.Take(half).ToList()).WriteParquet(connection, Path.Combine(_folder, relative, "part-0.parquet"));
                new TableData(data.Columns, data.Rows.Skip(half).ToList()).WriteParquet(connection, Path.Combine(_folder, relative, "day=2", "part-1.parquet"));
            }
            return new FileSource { Name = name, Path = relative };
        }, entityRowCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public Task Feature_references_match_the_brute_force_join(int seed)
    {
        var scenario = Scenario(seed);
        return scenario.AssertStoreMatchesReferenceAsync(_store, scenario.FeatureReferencePlan(), Path.Combine(_folder, $"out-{seed}.parquet"));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public Task Feature_service_with_aliases_and_full_names_matches_the_brute_force_join(int seed)
    {
        var scenario = Scenario(seed);
        var plan = scenario.ServicePlan();
        Assert.Contains("origin__temperature", plan.OutputColumns);
        Assert.Contains("destination__temperature", plan.OutputColumns);
        return scenario.AssertStoreMatchesReferenceAsync(_store, plan, Path.Combine(_folder, $"out-{seed}.parquet"));
    }

    /// <summary>
    /// CSV entity dataframes larger than DuckDB's sniffing sample (20,480 rows), with naive and zoned times placed so that a
    /// type guessed from the first rows would be wrong for later ones, in both directions; compared with the brute force.
    /// </summary>
    [Theory]
    [InlineData("zoned after a naive sample", 41)]
    [InlineData("naive after a zoned sample", 42)]
    [InlineData("zoned or naive at random on every row", 43)]
    [InlineData("only the last row zoned", 44)]
    [InlineData("only the first row naive", 45)]
    public Task Csv_mixing_naive_and_zoned_times_at_any_position_matches_the_brute_force_join(string pattern, int seed)
    {
        var scenario = Scenario(seed, entityRowCount: 22_000);
        var count = scenario.EntityRows.Count;
        var random = new Random(seed);
        Func<int, bool> zoned = pattern switch
        {
            "zoned after a naive sample" => r => r >= 20_480 + 100,
            "naive after a zoned sample" => r => r < 20_480 + 100,
            "zoned or naive at random on every row" => _ => random.Next(2) == 0,
            "only the last row zoned" => r => r == count - 1,
            _ => r => r != 0,
        };
        var csv = Path.Combine(_folder, $"entities-{seed}.csv");
        scenario.WriteEntityCsv(csv, zoned, seed);
        return scenario.AssertStoreMatchesReferenceAsync(_store, scenario.FeatureReferencePlan(), Path.Combine(_folder, $"out-{seed}.parquet"), EntityDataFrame.FromFile(csv));
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
