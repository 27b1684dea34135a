using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.DuckDb;
using Xunit;

namespace Granary.Offline.Tests;

/// <summary>Randomized point-in-time joins by the DuckDB store compared row by row with the brute-force reference.</summary>
public sealed class DuckDbPointInTimePropertyTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-pit-").FullName;
    private readonly DuckDbOfflineStore _store;

    public DuckDbPointInTimePropertyTests() =>
        _store = new DuckDbOfflineStore(new DuckDbOfflineStoreOptions { RepositoryPath = _folder, MemoryLimit = "512MB", Threads = 2 });

    private PointInTimeScenario Scenario(int seed)
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
        });
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

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
