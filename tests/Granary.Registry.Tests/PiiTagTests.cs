using Granary.Core.Security;
using Granary.Definitions;
using Granary.Repository;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Registry.Tests;

/// <summary>
/// Feature tags (Feast's <c>FeatureSpecV2.tags</c>, field 3 of feast/core/Feature.proto) through the repository format, the
/// registry's JSON, the YAML writer and the diff; which features are PII; granary.yaml's <c>masking:</c> and its errors.
/// </summary>
public sealed class PiiTagTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private void TagAvgDailyTrips(string tags)
        => _repo.Replace("features/driver.yaml", "      - name: avg_daily_trips\n        type: Int64\n",
            $"      - name: avg_daily_trips\n        type: Int64\n        tags: {tags}\n");

    [Fact]
    public void Schema_entries_carry_tags_through_json_the_yaml_writer_and_the_diff()
    {
        var before = _repo.Load().ToSnapshot();
        TagAvgDailyTrips("{pii: hash, owner: risk}");
        var after = _repo.Load().ToSnapshot();

        var field = after.FindFeatureView("driver_hourly_stats")!.Features.Single(f => f.Name == "avg_daily_trips");
        Assert.Equal(new Dictionary<string, string> { ["pii"] = "hash", ["owner"] = "risk" }, field.Tags);
        Assert.Empty(after.FindFeatureView("driver_hourly_stats")!.Features.Single(f => f.Name == "conv_rate").Tags);

        var reread = RegistryJson.Deserialize(RegistryJson.Serialize(after));
        Assert.Equal("hash", reread.FindFeatureView("driver_hourly_stats")!.Features.Single(f => f.Name == "avg_daily_trips").Tags["pii"]);
        Assert.Contains("pii: hash", DefinitionYamlWriter.Write(after));

        var change = Assert.Single(RegistryDiff.Compute(before, after).Changes);
        Assert.Equal(
            [new FieldChange("features.avg_daily_trips.tags.owner", null, "risk"), new FieldChange("features.avg_daily_trips.tags.pii", null, "hash")],
            change.Fields);
    }

    [Fact]
    public void A_feature_is_pii_by_its_own_tag_or_else_its_views_and_may_opt_out()
    {
        Field F(string name, string? pii = null) => new(name, new ValueType(ScalarType.String))
        {
            Tags = pii is null ? RegistryObject.EmptyTags : new Dictionary<string, string> { ["pii"] = pii },
        };
        var snapshot = new RegistrySnapshot
        {
            Project = "p",
            FeatureViews =
            [
                new FeatureView { Name = "plain", Source = "s", Features = [F("a"), F("b", "true"), F("c", "refuse"), F("d", "false"), F("e", "yes")] },
                new FeatureView
                {
                    Name = "tagged", Source = "s", Tags = new Dictionary<string, string> { ["PII"] = "hash" },
                    Features = [F("a"), F("b", "true"), F("c", "mask"), F("d", "false")],
                },
            ],
        };
        var catalog = PiiCatalog.For(snapshot);
        Assert.True(catalog.Any);
        MaskingMode? Mode(string view, string feature) => catalog.ModeOf(view, feature, MaskingMode.Mask);
        Assert.Null(Mode("plain", "a"));
        Assert.Equal(MaskingMode.Mask, Mode("plain", "b"));           // "true": the default mode
        Assert.Equal(MaskingMode.Refuse, Mode("plain", "c"));
        Assert.Null(Mode("plain", "d"));                              // "false": not PII
        Assert.Equal(MaskingMode.Mask, Mode("plain", "e"));           // any other value: PII, default mode
        Assert.Equal(MaskingMode.Hash, Mode("tagged", "a"));          // the view's tag (key in any case) and its mode
        Assert.Equal(MaskingMode.Hash, Mode("tagged", "b"));          // a feature's "true" keeps the view's mode
        Assert.Equal(MaskingMode.Mask, Mode("tagged", "c"));          // the feature's own mode wins
        Assert.Null(Mode("tagged", "d"));                             // opted out of a PII view
        Assert.False(PiiCatalog.For(new RegistrySnapshot { Project = "p" }).Any);
    }

    [Fact]
    public void Masking_settings_are_read_from_granary_yaml()
    {
        var config = RepositoryConfig.Parse("project: demo\nmasking:\n  mode: refuse\n  mask: \"#\"\n", "granary.yaml");
        Assert.Equal(MaskingMode.Refuse, config.Masking.Mode);
        Assert.Equal("#", config.Masking.Mask);
        var defaults = RepositoryConfig.Parse("project: demo\n", "granary.yaml");
        Assert.Equal((MaskingMode.Mask, "***"), (defaults.Masking.Mode, defaults.Masking.Mask));
    }

    [Theory]
    [InlineData("masking:\n  mode: scramble", "granary.yaml:3: masking: mode is 'scramble'; write mask (the default), hash or refuse")]
    [InlineData("masking:\n  salt: s3cret-s3cret-s3cret", "granary.yaml:3: masking: 'salt' is a secret and does not belong in the repository; give it to the server as Granary:Gateway:Masking:Salt (env Granary__Gateway__Masking__Salt)")]
    [InlineData("masking:\n  mask: \"\"", "granary.yaml:3: masking: mask is empty; write the text strings are masked to, e.g. mask: \"***\"")]
    [InlineData("masking: hash", "granary.yaml:2: 'masking' must be a mapping, e.g. masking: {mode: hash}")]
    public void Bad_masking_settings_are_refused_naming_the_line_and_the_fix(string yaml, string message)
    {
        var error = Assert.Throws<RepositoryValidationException>(() => RepositoryConfig.Parse("project: demo\n" + yaml + "\n", "granary.yaml"));
        Assert.Equal(message, Assert.Single(error.Errors).ToString());
    }
}
