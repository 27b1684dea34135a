using Granary.Definitions;
using Granary.FeatureHealth;
using Granary.Repository;

namespace Granary.Health.Tests;

/// <summary>
/// The drift statistics against values worked out independently: chi-square table values, the Kolmogorov distribution's
/// table, a 2 x 2 contingency table by hand, PSI by hand; and the verdicts on seeded samples.
/// </summary>
public sealed class DriftStatisticsTests
{
    [Theory]
    // Upper critical values of the chi-square distribution as printed in statistics tables.
    [InlineData(3.841459, 1, 0.05)]
    [InlineData(6.634897, 1, 0.01)]
    [InlineData(5.991465, 2, 0.05)]
    [InlineData(9.210340, 2, 0.01)]
    [InlineData(9.487729, 4, 0.05)]
    [InlineData(18.307038, 10, 0.05)]
    [InlineData(23.209251, 10, 0.01)]
    public void Chi_square_p_values_match_the_tables(double statistic, int df, double p)
    {
        Assert.Equal(p, DriftStatistics.ChiSquareP(statistic, df), 6);
        Assert.Equal(statistic, DriftStatistics.ChiSquareCritical(p, df), 4);
    }

    [Fact]
    public void With_two_degrees_of_freedom_the_p_value_is_exp_of_minus_half_the_statistic()
        => Assert.Equal(Math.Exp(-2), DriftStatistics.ChiSquareP(4, 2), 12);

    [Fact]
    public void A_two_by_two_table_worked_by_hand()
    {
        // Observed [[10, 20], [30, 40]]: totals 30/70 by row, 40/60 by column, N = 100, so expected [[12, 18], [28, 42]] and
        // chi-square = 4/12 + 4/18 + 4/28 + 4/42 = 0.793651; with 1 degree of freedom p = erfc(sqrt(0.793651 / 2)) = 0.372998.
        var (statistic, df, p) = DriftStatistics.ChiSquareHomogeneity(
            new Dictionary<string, long> { ["a"] = 10, ["b"] = 20 }, new Dictionary<string, long> { ["a"] = 30, ["b"] = 40 });
        Assert.Equal(0.793651, statistic, 6);
        Assert.Equal(1, df);
        Assert.Equal(0.372998, p, 6);
    }

    [Theory]
    // The Kolmogorov distribution's table: P(K > 1.36) = 0.05 and P(K > 1.63) = 0.01 (to two digits), P(K > 1) = 0.27.
    [InlineData(1.36, 0.0495, 4)]
    [InlineData(1.63, 0.0098, 4)]
    [InlineData(1.0, 0.2700, 4)]
    public void Kolmogorov_tail_matches_the_table(double lambda, double p, int digits)
        => Assert.Equal(p, DriftStatistics.KolmogorovQ(lambda), digits);

    [Fact]
    public void Ks_statistic_is_the_largest_cdf_distance()
    {
        // Merged order a a b a b a b b: |Fa - Fb| goes .25 .5 .25 .5 .25 .5 .25 0, so D = 0.5.
        var (d, _) = DriftStatistics.KolmogorovSmirnov([0.1, 0.2, 0.3, 0.4], [0.25, 0.35, 0.45, 0.55]);
        Assert.Equal(0.5, d, 12);
        Assert.Equal(1.0, DriftStatistics.KolmogorovSmirnov([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).D, 12);
        var same = DriftStatistics.KolmogorovSmirnov([1, 2, 2, 3], [1, 2, 2, 3]);
        Assert.Equal(0.0, same.D, 12);
        Assert.Equal(1.0, same.P, 12);
    }

    [Fact]
    public void Psi_of_shares_worked_by_hand()
    {
        // (0.6 - 0.5) ln(0.6 / 0.5) + (0.4 - 0.5) ln(0.4 / 0.5) = 0.1 ln 1.2 + 0.1 ln 1.25 = 0.040547.
        Assert.Equal(0.040547, DriftStatistics.PsiOfShares([0.5, 0.5], [0.6, 0.4]), 6);
        Assert.Equal(0.0, DriftStatistics.PsiOfShares([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 12);
        // An empty bin counts as 1e-4: (0.5 - 1e-4) ln(0.5 / 1e-4) + (0.5 - 1) ln(0.5 / 1).
        Assert.Equal((0.5 - 1e-4) * Math.Log(0.5 / 1e-4) + (0.5 - 1) * Math.Log(0.5), DriftStatistics.PsiOfShares([0.0, 1.0], [0.5, 0.5]), 9);
    }

    [Fact]
    public void Psi_bins_are_the_baselines_deciles()
    {
        // Baseline 1..1000: deciles cut it in ten equal bins; values 1..500 fill the lower five only.
        var baseline = Enumerable.Range(1, 1000).Select(i => (double)i).ToArray();
        Assert.Equal(0.0, DriftStatistics.Psi(baseline, baseline), 12);
        var expected = DriftStatistics.PsiOfShares(Enumerable.Repeat(0.1, 10).ToList(), [0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0, 0, 0]);
        Assert.Equal(expected, DriftStatistics.Psi(baseline, baseline.Take(500).ToArray()), 9);
    }

    [Fact]
    public void Seeded_samples_a_shifted_one_drifts_and_an_unshifted_one_does_not()
    {
        var random = new Random(2024);
        double Normal(double mean) => mean + Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var baseline = Enumerable.Range(0, 5000).Select(_ => (object?)Normal(0)).ToList();
        var same = Enumerable.Range(0, 2000).Select(_ => (object?)Normal(0)).ToList();
        var shifted = Enumerable.Range(0, 2000).Select(_ => (object?)Normal(0.5)).ToList();
        var field = new Field("x", new(ScalarType.Float64));
        var thresholds = new DriftThresholds();

        var calm = DriftChecker.Compare(field, baseline, same, thresholds);
        Assert.False(calm.Drifted, string.Join("; ", calm.Reasons));
        Assert.True(calm.Psi < 0.05);

        var moved = DriftChecker.Compare(field, baseline, shifted, thresholds);
        Assert.True(moved.Drifted);
        Assert.True(moved.KsP < 1e-6);
        // Half a standard deviation moves PSI to about 0.25 (the usual rule of thumb: > 0.2 is a significant shift).
        Assert.InRange(moved.Psi!.Value, 0.2, 0.35);

        var colours = new Field("c", new(ScalarType.String));
        object?[] Draw(int n, double redShare) => [.. Enumerable.Range(0, n).Select(_ => (object?)(random.NextDouble() < redShare ? "red" : "blue"))];
        Assert.False(DriftChecker.Compare(colours, Draw(4000, 0.5), Draw(2000, 0.5), thresholds).Drifted);
        Assert.True(DriftChecker.Compare(colours, Draw(4000, 0.5), Draw(2000, 0.6), thresholds).Drifted);
    }

    [Fact]
    public void Null_rate_difference_is_served_minus_baseline_against_its_threshold()
    {
        var field = new Field("x", new(ScalarType.Int64));
        object?[] baseline = [.. Enumerable.Range(0, 1000).Select(i => (object?)(long)(i % 10))];
        object?[] served = [.. Enumerable.Range(0, 1000).Select(i => i % 50 == 0 ? null : (object?)(long)(i % 10))];
        var result = DriftChecker.Compare(field, baseline, served, new DriftThresholds());
        Assert.Equal(0.02, result.NullRateDifference, 12);
        Assert.Contains(result.Reasons, r => r.StartsWith("null rate differs by 0.02", StringComparison.Ordinal));
        Assert.DoesNotContain(DriftChecker.Compare(field, baseline, served, new DriftThresholds { NullRate = 0.05 }).Reasons, r => r.StartsWith("null", StringComparison.Ordinal));
    }
}
