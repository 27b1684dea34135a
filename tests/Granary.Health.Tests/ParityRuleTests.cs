using Granary.Definitions;
using Granary.FeatureHealth;
using Granary.Online;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Health.Tests;

/// <summary>The comparison rules of parity, one case per rule: NULLs and TTL alike on both sides, float tolerances, lists.</summary>
public sealed class ParityRuleTests
{
    private static readonly ValueType F64 = new(ScalarType.Float64);
    private static readonly ValueType F32 = new(ScalarType.Float32);
    private static readonly ValueType I64 = new(ScalarType.Int64);

    [Fact]
    public void No_value_on_both_sides_matches_whatever_the_online_status()
    {
        Assert.Null(ParityChecker.Compare(null, null, FeatureStatus.NotFound, I64));
        Assert.Null(ParityChecker.Compare(null, null, FeatureStatus.NullValue, I64));
        // Online still returns a value older than the ttl; offline ignores such rows: both mean "no valid value".
        Assert.Null(ParityChecker.Compare(null, 5L, FeatureStatus.OutsideMaxAge, I64));
    }

    [Fact]
    public void A_value_on_one_side_only_is_a_mismatch_with_the_reason()
    {
        Assert.Contains("online has none", ParityChecker.Compare(5L, null, FeatureStatus.NotFound, I64));
        Assert.Contains("outside the ttl", ParityChecker.Compare(5L, 4L, FeatureStatus.OutsideMaxAge, I64));
        Assert.Contains("online holds NULL", ParityChecker.Compare(5L, null, FeatureStatus.NullValue, I64));
        Assert.Contains("offline has no row", ParityChecker.Compare(null, 5L, FeatureStatus.Present, I64));
    }

    [Fact]
    public void Floats_match_within_their_documented_tolerance_and_integers_exactly()
    {
        Assert.Null(ParityChecker.Compare(0.1 + 0.2, 0.3, FeatureStatus.Present, F64));
        Assert.Equal("values differ", ParityChecker.Compare(0.3, 0.3001, FeatureStatus.Present, F64));
        // A Float32 read back widened to double matches the online 32-bit value.
        Assert.Null(ParityChecker.Compare((double)4.1f, 4.1f, FeatureStatus.Present, F32));
        Assert.Equal("values differ", ParityChecker.Compare(4.1, 4.2f, FeatureStatus.Present, F32));
        Assert.Null(ParityChecker.Compare(7, 7L, FeatureStatus.Present, new ValueType(ScalarType.Int32)));
        Assert.Equal("values differ", ParityChecker.Compare(7L, 8L, FeatureStatus.Present, I64));
    }

    [Fact]
    public void Lists_strings_and_timestamps_compare_element_by_element_and_exactly()
    {
        Assert.Null(ParityChecker.Compare(new List<double> { 1.0, 2.0 }, new[] { 1.0, 2.0 }, FeatureStatus.Present, new ValueType(ScalarType.Float64, IsList: true)));
        Assert.NotNull(ParityChecker.Compare(new List<double> { 1.0 }, new[] { 1.0, 2.0 }, FeatureStatus.Present, new ValueType(ScalarType.Float64, IsList: true)));
        Assert.NotNull(ParityChecker.Compare("a", "A", FeatureStatus.Present, new ValueType(ScalarType.String)));
        var at = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Null(ParityChecker.Compare(at.UtcDateTime, at, FeatureStatus.Present, new ValueType(ScalarType.UnixTimestamp)));
    }
}
