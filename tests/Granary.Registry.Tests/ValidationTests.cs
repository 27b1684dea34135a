using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary>Each validation error names file, line, the offending value and the known alternatives.</summary>
public sealed class ValidationTests : IDisposable
{
    private const string Driver = "features/driver.yaml";
    private const string Customer = "features/customer.yaml";
    private const string Services = "features/services.yaml";
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private RepositoryValidationException Invalid()
        => Assert.ThrowsAsync<RepositoryValidationException>(async () =>
        {
            var repo = _repo.Load();
            await RepositoryValidator.ValidateAsync(repo);
        }).GetAwaiter().GetResult();

    private static void AssertSingle(RepositoryValidationException e, string expected)
    {
        Assert.Equal([expected], e.Errors.Select(x => x.ToString()));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public async Task Sample_repository_is_valid()
    {
        var compiled = await RepositoryValidator.ValidateAsync(_repo.Load());
        Assert.NotNull(compiled);
        Assert.True(compiled.Contains("ConvRateTransform"));
    }

    [Fact]
    public void Unknown_entity_is_named_with_the_known_entities()
    {
        _repo.Replace(Driver, "entities: [driver]", "entities: [drivr]");
        var line = _repo.LineOf(Driver, "[drivr]");
        AssertSingle(Invalid(), $"{Driver}:{line}: feature view 'driver_hourly_stats' references unknown entity 'drivr'; known: customer, driver");
    }

    [Fact]
    public void Unknown_source_is_named_with_the_known_sources()
    {
        _repo.Replace(Customer, "source: customer_profile_source", "source: customer_profile_src");
        var line = _repo.LineOf(Customer, "customer_profile_src");
        AssertSingle(Invalid(), $"{Customer}:{line}: feature view 'customer_profile' references unknown source 'customer_profile_src'; known: customer_profile_source, driver_stats_push, driver_stats_source");
    }

    [Fact]
    public void Duplicate_names_point_at_the_first_definition()
    {
        _repo.Write("features/more.yaml", "entities:\n  - name: driver\n    join_key: driver_id\n");
        var first = _repo.LineOf("features/entities.yaml", "name: driver");
        AssertSingle(Invalid(), $"features/more.yaml:2: duplicate entity name 'driver'; first defined at features/entities.yaml:{first}");
    }

    [Fact]
    public void A_feature_view_and_an_on_demand_view_may_not_share_a_name()
    {
        _repo.Replace(Customer, "name: transformed_conv_rate", "name: customer_profile");
        _repo.Replace(Services, "- transformed_conv_rate", "- customer_profile");
        var e = Invalid();
        Assert.Contains(e.Errors, x => x.Message.StartsWith("duplicate feature view name 'customer_profile'; first defined at features/customer.yaml:", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_type_is_named_with_the_known_types()
    {
        _repo.Replace(Driver, "type: Float32", "type: Float33");
        var line = _repo.LineOf(Driver, "Float33");
        AssertSingle(Invalid(), $"{Driver}:{line}: feature view 'driver_hourly_stats' field 'conv_rate': type 'Float33' is unknown; known: Int32, Int64, Float32, Float64, String, Bool, Bytes, UnixTimestamp, and Array(<scalar>) of each");
    }

    [Fact]
    public void List_types_are_accepted()
    {
        _repo.Replace(Driver, "type: Float32", "type: Array(Float32)");
        var repo = _repo.Load();
        Assert.True(repo.FeatureViews.Single(v => v.Value.Name == "driver_hourly_stats").Value.Features[0].Type.IsList);
    }

    [Fact]
    public void Bad_ttl_is_named_with_the_accepted_forms()
    {
        _repo.Replace(Driver, "ttl: 1d", "ttl: 1 day");
        var line = _repo.LineOf(Driver, "ttl: 1 day");
        AssertSingle(Invalid(), $"{Driver}:{line}: feature view 'driver_hourly_stats': ttl '1 day' is not a duration; use 0, or a number with unit s, m, h, d or w (e.g. 30m, 2h, 7d, 1d12h)");
    }

    [Fact]
    public void Misspelt_key_is_named_with_the_known_keys()
    {
        _repo.Replace(Driver, "ttl: 1d", "tll: 1d");
        var line = _repo.LineOf(Driver, "tll: 1d");
        AssertSingle(Invalid(), $"{Driver}:{line}: feature view 'driver_hourly_stats': unknown key 'tll'; known: name, entities, schema, source, ttl, online, owner, freshness_sla, materialize_every, materialize_lookback, quality_gate, description, tags");
    }

    [Fact]
    public void Feature_service_referencing_a_missing_view_is_named()
    {
        _repo.Replace(Services, "- customer_profile", "- customer_profiles");
        var line = _repo.LineOf(Services, "customer_profiles");
        AssertSingle(Invalid(), $"{Services}:{line}: feature service 'driver_activity_v1' references unknown feature view 'customer_profiles'; known: customer_profile, driver_hourly_stats, driver_stats_fresh, transformed_conv_rate");
    }

    [Fact]
    public void Feature_service_referencing_a_missing_feature_is_named_with_the_views_features()
    {
        _repo.Replace(Services, "features: [conv_rate, acc_rate]", "features: [conv_rate, avg_spend]");
        var line = _repo.LineOf(Services, "avg_spend");
        AssertSingle(Invalid(), $"{Services}:{line}: feature service 'driver_activity_v1': feature view 'driver_hourly_stats' has no feature 'avg_spend'; known: acc_rate, avg_daily_trips, conv_rate");
    }

    [Fact]
    public void Push_source_with_an_unknown_batch_source_is_named()
    {
        _repo.Replace(Driver, "batch_source: driver_stats_source", "batch_source: nowhere");
        var line = _repo.LineOf(Driver, "batch_source: nowhere");
        AssertSingle(Invalid(), $"{Driver}:{line}: push source 'driver_stats_push' references unknown batch source 'nowhere'; known: customer_profile_source, driver_stats_source");
    }

    [Fact]
    public void On_demand_view_with_an_unknown_source_is_named()
    {
        _repo.Replace(Customer, "sources: [driver_hourly_stats, trip_request]", "sources: [driver_hourly_stats, trip_req]");
        var line = _repo.LineOf(Customer, "trip_req]");
        AssertSingle(Invalid(), $"{Customer}:{line}: on-demand feature view 'transformed_conv_rate' references unknown source 'trip_req'; known feature views and request sources: customer_profile, driver_hourly_stats, driver_stats_fresh, trip_request");
    }

    [Fact]
    public void Transform_compile_error_is_reported_with_the_transform_file_and_line()
    {
        _repo.Replace("transforms/conv_rate.cs", "row.GetInt64(\"val_to_add\");", "row.GetInt64(\"val_to_add\") +;");
        var line = _repo.LineOf("transforms/conv_rate.cs", "+;");
        var e = Invalid();
        var error = Assert.Single(e.Errors);
        Assert.Equal(new SourceLocation("transforms/conv_rate.cs", line), error.Location);
        Assert.StartsWith("transform does not compile: CS1525: Invalid expression term ';'", error.Message);
    }

    [Fact]
    public void Unknown_transform_class_is_named_with_the_known_ones()
    {
        _repo.Replace(Customer, "transform: ConvRateTransform", "transform: ConvRate");
        var line = _repo.LineOf(Customer, "transform: ConvRate");
        AssertSingle(Invalid(), $"{Customer}:{line}: on-demand feature view 'transformed_conv_rate' uses unknown transform 'ConvRate'; known: ConvRateTransform, Sample.Transforms.ConvRateTransform");
    }

    [Fact]
    public void Yaml_syntax_error_names_file_and_line()
    {
        _repo.Write("features/broken.yaml", "entities:\n  - name: x\n   join_key: [unclosed\n");
        var e = Assert.Throws<RepositoryValidationException>(() => _repo.Load());
        var error = Assert.Single(e.Errors);
        Assert.Equal("features/broken.yaml", error.Location.File);
        Assert.InRange(error.Location.Line, 2, 4);
        Assert.StartsWith("YAML syntax error: ", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        _repo.Replace(Driver, "entities: [driver]", "entities: [drivr]");
        _repo.Replace(Services, "- customer_profile", "- customer_profiles");
        var e = Invalid();
        Assert.Equal(2, e.Errors.Count);
        Assert.StartsWith("2 problems in the feature repository:", e.Message);
    }

    [Fact]
    public void Missing_granary_yaml_says_how_to_create_a_repository()
    {
        File.Delete(Path.Combine(_repo.Root, "granary.yaml"));
        var e = Assert.Throws<RepositoryValidationException>(() => _repo.Load());
        Assert.Contains("run 'granary init <dir>'", e.Message);
    }
}
