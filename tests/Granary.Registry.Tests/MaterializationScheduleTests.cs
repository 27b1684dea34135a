using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary>A feature view's materialization schedule in the repository format: read, checked, written back.</summary>
public sealed class MaterializationScheduleTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void A_schedule_is_read_with_its_lookback_and_survives_a_yaml_round_trip()
    {
        _repo.Replace("features/driver.yaml", "name: driver_hourly_stats", "name: driver_hourly_stats\n    materialize_every: 1h\n    materialize_lookback: 2h");

        var view = _repo.Load().FeatureViews.Single(v => v.Value.Name == "driver_hourly_stats").Value;
        Assert.Equal((TimeSpan.FromHours(1), TimeSpan.FromHours(2)), (view.MaterializeEvery, view.MaterializeLookback));

        var written = DefinitionYamlWriter.Write(_repo.Load().ToSnapshot());
        Assert.Contains("materialize_every: 1h", written);
        Assert.Contains("materialize_lookback: 2h", written);
    }

    [Fact]
    public void A_schedule_shorter_than_a_minute_or_a_lookback_alone_is_an_error_at_its_line()
    {
        _repo.Replace("features/driver.yaml", "name: driver_hourly_stats", "name: driver_hourly_stats\n    materialize_every: 30s");
        var error = Assert.Throws<RepositoryValidationException>(() => _repo.Load());
        var line = _repo.LineOf("features/driver.yaml", "materialize_every: 30s");
        Assert.Contains(error.Errors, e => e.Location.Line == line && e.Message.Contains("shorter than a minute"));

        _repo.Replace("features/driver.yaml", "materialize_every: 30s", "materialize_lookback: 2h");
        error = Assert.Throws<RepositoryValidationException>(() => _repo.Load());
        Assert.Contains(error.Errors, e => e.Message.Contains("materialize_lookback needs materialize_every"));
    }
}
