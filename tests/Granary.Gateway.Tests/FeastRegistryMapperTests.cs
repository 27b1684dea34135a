using System.Text.Json;
using Granary.Definitions;
using Granary.Gateway.Grpc;

namespace Granary.Gateway.Tests;

/// <summary>What the registry mapping carries that a repository applied in the server tests does not show.</summary>
public sealed class FeastRegistryMapperTests
{
    private static readonly DateTimeOffset Created = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static RegistrySnapshot Snapshot(params OnDemandFeatureView[] onDemand) => new()
    {
        Project = "mapper",
        Version = 7,
        CreatedAt = Created,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new PostgresSource { Name = "trips", Query = "SELECT * FROM trips", TimestampField = "ts" },
            new FileSource { Name = "stats", Path = "data/stats.parquet", TimestampField = "event_timestamp" },
        ],
        FeatureViews =
        [
            new FeatureView { Name = "no_ttl", Entities = ["driver"], Source = "stats", Features = [new Field("rate", new(ScalarType.Float64))] },
        ],
        OnDemandFeatureViews = onDemand,
        MaterializationIntervals = new Dictionary<string, IReadOnlyList<MaterializationInterval>>
        {
            ["no_ttl"] = [new MaterializationInterval(Created.AddDays(-2), Created.AddDays(-1), Created)],
        },
    };

    [Fact]
    public void A_version_maps_once_with_its_number_time_and_materialized_intervals()
    {
        var snapshot = Snapshot();
        var feast = FeastRegistryMapper.Get(snapshot);
        Assert.Same(feast, FeastRegistryMapper.Get(snapshot));
        Assert.Equal(("7", Created), (feast.Registry.VersionId, feast.Registry.LastUpdated.ToDateTimeOffset()));
        var view = feast.FeatureViews["no_ttl"];
        Assert.Null(view.Spec.Ttl); // no TTL: Feast reads an absent ttl as "lives forever"
        var interval = Assert.Single(view.Meta.MaterializationIntervals);
        Assert.Equal((Created.AddDays(-2), Created.AddDays(-1)), (interval.StartTime.ToDateTimeOffset(), interval.EndTime.ToDateTimeOffset()));
        Assert.Equal(Created, view.Meta.LastUpdatedTimestamp.ToDateTimeOffset());
    }

    [Fact]
    public void A_postgres_query_source_carries_feasts_json_options_with_a_null_table()
    {
        var source = FeastRegistryMapper.Get(Snapshot()).DataSources["trips"];
        using var options = JsonDocument.Parse(source.CustomOptions.Configuration.Memory);
        Assert.Equal(("trips", "SELECT * FROM trips", JsonValueKind.Null),
            (options.RootElement.GetProperty("name").GetString(), options.RootElement.GetProperty("query").GetString(), options.RootElement.GetProperty("table").ValueKind));
    }

    [Fact]
    public void An_on_demand_view_keeps_its_description_and_names_a_python_safe_function()
    {
        var view = new OnDemandFeatureView
        {
            Name = "scored", Sources = [], Transform = "Acme.Scoring.Score2", Description = "Model score.",
            Features = [new Field("score", new(ScalarType.Float64))],
        };
        var spec = FeastRegistryMapper.Get(Snapshot(view)).OnDemandFeatureViews["scored"].Spec;
        Assert.StartsWith("Model score.\n\n", spec.Description);
        Assert.Contains("C# transform 'Acme.Scoring.Score2'", spec.Description);
        Assert.Equal("Score2", spec.FeatureTransformation.UserDefinedFunction.Name);
        Assert.StartsWith("def Score2(inputs):\n    raise RuntimeError(\"on-demand feature view 'scored'", spec.FeatureTransformation.UserDefinedFunction.BodyText);
    }

    [Fact]
    public void The_project_uuid_is_stable_and_differs_between_projects()
    {
        Assert.Equal(FeastRegistryMapper.ProjectUuid("a"), FeastRegistryMapper.ProjectUuid("a"));
        Assert.NotEqual(FeastRegistryMapper.ProjectUuid("a"), FeastRegistryMapper.ProjectUuid("b"));
        Assert.True(Guid.TryParse(FeastRegistryMapper.ProjectUuid("a"), out _));
    }
}
