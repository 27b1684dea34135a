using Granary.Definitions;
using Granary.Repository;
using Granary.Transforms;

namespace Granary.Registry.Tests;

public sealed class TransformTests
{
    private static readonly Dictionary<string, string> Sources = new() { ["transforms/conv_rate.cs"] = SampleRepository.TransformCode };

    private static RegistrySnapshot Snapshot(long version) => new()
    {
        Project = "demo",
        Version = version,
        OnDemandFeatureViews = [new OnDemandFeatureView
        {
            Name = "transformed_conv_rate",
            Sources = ["driver_hourly_stats", "trip_request"],
            Features = [new Field("conv_rate_plus_val1", new Definitions.ValueType(ScalarType.Float64)), new Field("conv_rate_plus_val2", new Definitions.ValueType(ScalarType.Float64))],
            Transform = "ConvRateTransform",
        }],
        TransformSources = Sources,
    };

    private static (double?, double?) Run(IOnDemandTransform transform, object? convRate, long? val1, long? val2)
    {
        var row = new TransformRow { ["conv_rate"] = convRate, ["val_to_add"] = val1, ["val_to_add_2"] = val2 };
        transform.Transform(row);
        return ((double?)row["conv_rate_plus_val1"], (double?)row["conv_rate_plus_val2"]);
    }

    [Fact]
    public void The_same_sources_compiled_in_two_silos_give_the_same_image_and_the_same_outputs()
    {
        // Two catalogs stand for two silos: each compiles the registry version on its own.
        var silo1 = new TransformCatalog();
        var silo2 = new TransformCatalog();
        var t1 = silo1.GetTransform(Snapshot(3), "transformed_conv_rate");
        var t2 = silo2.GetTransform(Snapshot(3), "transformed_conv_rate");

        Assert.NotSame(t1, t2);
        Assert.Equal(silo1.GetTransforms(Snapshot(3)).ImageHash, silo2.GetTransforms(Snapshot(3)).ImageHash);
        var inputs = new (object?, long?, long?)[] { (0.5f, 1L, 2L), (0.25, 10L, -3L), (null, 1L, 2L), (0.75, null, 5L), (1, 0L, 0L) };
        foreach (var (conv, a, b) in inputs)
            Assert.Equal(Run(t1, conv, a, b), Run(t2, conv, a, b));
        Assert.Equal((1.5, 2.5), Run(t1, 0.5f, 1L, 2L));
        Assert.Equal((null, null), Run(t1, null, 1L, 2L));
    }

    [Fact]
    public void A_silo_compiles_each_version_once_and_shares_equal_sources_across_versions()
    {
        var catalog = new TransformCatalog();
        var v3 = catalog.GetTransforms(Snapshot(3));
        Assert.Same(v3, catalog.GetTransforms(Snapshot(3)));
        Assert.Same(v3, catalog.GetTransforms(Snapshot(4))); // version 4 did not change the transforms

        var changed = Snapshot(5) with { TransformSources = new Dictionary<string, string> { ["transforms/conv_rate.cs"] = SampleRepository.TransformCode.Replace("convRate +", "convRate * 10 +", StringComparison.Ordinal) } };
        var v5 = catalog.GetTransform(changed, "transformed_conv_rate");
        Assert.Equal((6.0, 7.0), Run(v5, 0.5, 1L, 2L));
        Assert.Equal((1.5, 2.5), Run(catalog.GetTransform(Snapshot(3), "transformed_conv_rate"), 0.5, 1L, 2L));
    }

    [Fact]
    public void Compile_errors_carry_file_line_and_column()
    {
        var e = Assert.Throws<TransformCompilationException>(() => TransformCompiler.Compile(new Dictionary<string, string>
        {
            ["transforms/a.cs"] = "public class A : Granary.Definitions.IOnDemandTransform\n{\n    public void Transform(Granary.Definitions.TransformRow row) => row[\"x\"] = undefinedName;\n}\n",
        }));
        var error = Assert.Single(e.Errors);
        Assert.Equal(("transforms/a.cs", 3, "CS0103"), (error.File, error.Line, error.Id));
        Assert.Contains("transforms/a.cs:3:", e.Message);
    }

    [Fact]
    public void Unknown_view_or_transform_is_named_with_the_known_ones()
    {
        var catalog = new TransformCatalog();
        var e = Assert.Throws<KeyNotFoundException>(() => catalog.GetTransform(Snapshot(1), "nope"));
        Assert.Equal("registry version 1 of project 'demo' has no on-demand feature view 'nope'; known: transformed_conv_rate", e.Message);
        var missing = Snapshot(2) with { OnDemandFeatureViews = [Snapshot(2).OnDemandFeatureViews[0] with { Transform = "Other" }] };
        var e2 = Assert.Throws<KeyNotFoundException>(() => catalog.GetTransform(missing, "transformed_conv_rate"));
        Assert.Contains("known: ConvRateTransform, Sample.Transforms.ConvRateTransform", e2.Message);
    }
}
