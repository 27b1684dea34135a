using Granary.Definitions;
using Granary.Repository;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Registry.Tests;

public sealed class RepositoryFormatTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void Sample_repository_loads_every_object_with_its_fields()
    {
        var repo = _repo.Load();

        Assert.Equal("demo", repo.Config.Project);
        Assert.Equal(["driver", "customer"], repo.Entities.Select(e => e.Value.Name));
        Assert.Equal("driver_id", repo.Entities[0].Value.JoinKey);
        var view = repo.FeatureViews.Single(v => v.Value.Name == "driver_hourly_stats").Value;
        Assert.Equal(TimeSpan.FromDays(1), view.Ttl);
        Assert.Equal(TimeSpan.FromHours(2), view.FreshnessSla);
        Assert.Equal("ml-platform@example.com", view.Owner);
        Assert.Equal(new ValueType(ScalarType.Int64), view.Features.Single(f => f.Name == "avg_daily_trips").Type);
        Assert.Equal("drivers", view.Tags["team"]);
        var push = Assert.IsType<PushSource>(repo.DataSources.Single(s => s.Value.Name == "driver_stats_push").Value);
        Assert.Equal("driver_stats_source", push.BatchSource);
        var service = repo.FeatureServices.Single().Value;
        Assert.Equal(["conv_rate", "acc_rate"], service.Projections[0].Features);
        Assert.Empty(service.Projections[1].Features);
        Assert.Contains("transforms/conv_rate.cs", repo.TransformSources.Keys);
    }

    [Fact]
    public void Objects_remember_the_file_and_line_they_are_written_at()
    {
        var repo = _repo.Load();

        var view = repo.FeatureViews.Single(v => v.Value.Name == "driver_stats_fresh");
        Assert.Equal(new SourceLocation("features/driver.yaml", _repo.LineOf("features/driver.yaml", "name: driver_stats_fresh")), view.At("name"));
        Assert.Equal(_repo.LineOf("features/driver.yaml", "source: driver_stats_push"), view.At("source").Line);
    }

    [Fact]
    public void Yaml_round_trip_write_then_load_gives_the_same_definitions()
    {
        var original = _repo.Load().ToSnapshot();
        var written = DefinitionYamlWriter.Write(original);

        using var copy = new TestRepository();
        foreach (var f in Directory.GetFiles(Path.Combine(copy.Root, "features"))) File.Delete(f);
        copy.Write("features/all.yaml", written);
        var reloaded = copy.Load().ToSnapshot();

        Assert.Equal(RegistryJson.DefinitionsOf(original), RegistryJson.DefinitionsOf(reloaded));
        // And again: writing the reloaded definitions gives the same text.
        Assert.Equal(written, DefinitionYamlWriter.Write(reloaded));
    }

    [Fact]
    public void Registry_json_round_trip_keeps_every_field()
    {
        var original = _repo.Load().ToSnapshot() with { Version = 7, CreatedAt = DateTimeOffset.Parse("2026-01-02T03:04:05Z") };
        var json = RegistryJson.Serialize(original);
        var back = RegistryJson.Deserialize(json);

        Assert.Equal(json, RegistryJson.Serialize(back));
        Assert.IsType<PushSource>(back.FindDataSource("driver_stats_push"));
        Assert.Equal(TimeSpan.FromDays(30), back.FindFeatureView("customer_profile")!.Ttl);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("45s", 45)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("7d", 604800)]
    [InlineData("1w", 604800)]
    [InlineData("1d12h", 129600)]
    public void Ttl_text_parses_to_seconds(string text, long seconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("2x")]
    [InlineData("h")]
    [InlineData("-1d")]
    [InlineData("1.5h")]
    [InlineData("2 hours")]
    public void Ttl_text_rejects_other_forms(string text) => Assert.False(DurationText.TryParse(text, out _));

    [Fact]
    public void Granary_yaml_defaults_to_embedded_stores()
    {
        var config = RepositoryConfig.Parse("project: p1\n", "granary.yaml");

        Assert.Equal(RegistryStoreKind.Sqlite, config.Registry.Kind);
        Assert.Equal("data/registry.db", config.Registry.Path);
        Assert.Equal(OnlineStoreKind.Sqlite, config.OnlineStore.Kind);
        Assert.Equal(OfflineStoreKind.DuckDb, config.OfflineStore.Kind);
    }

    [Fact]
    public void Granary_yaml_reads_shared_stores_and_expands_environment_variables()
    {
        Environment.SetEnvironmentVariable("GRANARY_TEST_PG_PASSWORD", "s3cret");
        var config = RepositoryConfig.Parse("""
            project: shared
            registry:
              type: postgres
              connection_string: Host=db;Password=${GRANARY_TEST_PG_PASSWORD}
            online_store:
              type: redis
              connection_string: 127.0.0.1:6379
            offline_store:
              type: postgres
              connection_string: Host=db
            """, "granary.yaml");

        Assert.Equal(RegistryStoreKind.Postgres, config.Registry.Kind);
        Assert.Equal("Host=db;Password=s3cret", config.Registry.ConnectionString);
        Assert.Equal(OnlineStoreKind.Redis, config.OnlineStore.Kind);
        Assert.Equal(OfflineStoreKind.Postgres, config.OfflineStore.Kind);
    }

    [Fact]
    public void Granary_yaml_accepts_a_plain_path_as_the_sqlite_registry()
    {
        var config = RepositoryConfig.Parse("project: p1\nregistry: state/reg.db\n", "granary.yaml");
        Assert.Equal((RegistryStoreKind.Sqlite, "state/reg.db"), (config.Registry.Kind, config.Registry.Path));
    }

    [Fact]
    public void A_definition_file_may_hold_several_documents_and_kinds()
    {
        _repo.Write("features/extra.yaml", "entities:\n  - name: rider\n    join_key: rider_id\n---\nsources:\n  - name: rider_request\n    type: request\n    schema:\n      - {name: tip, type: Float64}\n");
        var repo = _repo.Load();
        Assert.Contains(repo.Entities, e => e.Value.Name == "rider" && e.Location == new SourceLocation("features/extra.yaml", 2));
        Assert.Contains(repo.DataSources, s => s.Value.Name == "rider_request" && s.Location.Line == 6);
    }

    [Fact]
    public void Granary_yaml_names_an_unknown_store_type_and_the_known_ones()
    {
        var e = Assert.Throws<RepositoryValidationException>(() => RepositoryConfig.Parse("project: p\nonline_store:\n  type: dynamo\n", "granary.yaml"));
        Assert.Equal("granary.yaml:3: online_store: type 'dynamo' is unknown; known: sqlite, redis", e.Message);
    }
}
