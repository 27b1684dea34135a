namespace Granary.FeatureHealth;

/// <summary>
/// The statistics drift checks use, written out here so each can be checked against textbook values: the population
/// stability index, the two-sample Kolmogorov-Smirnov test, and the chi-square test of homogeneity.
/// </summary>
public static class DriftStatistics
{
    /// <summary>Bins of the PSI: the baseline's deciles.</summary>
    public const int PsiBins = 10;

    /// <summary>
    /// A share below this counts as this in PSI's logarithm: an empty bin would make PSI infinite, and a floor of 1e-4
    /// (one in ten thousand) is the usual smoothing.
    /// </summary>
    public const double PsiFloor = 1e-4;

    /// <summary>
    /// PSI of <paramref name="served"/> against <paramref name="baseline"/>: bins cut at the baseline's quantiles
    /// (<see cref="PsiBins"/>, duplicate cuts merged), then <see cref="PsiOfShares"/> of the two bin shares.
    /// </summary>
    public static double Psi(double[] baseline, double[] served)
    {
        if (baseline.Length == 0 || served.Length == 0) return double.NaN;
        var sorted = (double[])baseline.Clone();
        Array.Sort(sorted);
        var cuts = new List<double>();
        for (var i = 1; i < PsiBins; i++)
        {
            var cut = Quantile(sorted, (double)i / PsiBins);
            if (cuts.Count == 0 || cut > cuts[^1]) cuts.Add(cut);
        }
        var expected = Shares(sorted, cuts);
        var actual = Shares(served, cuts);
        return PsiOfShares(expected, actual);
    }

    /// <summary>PSI of two share vectors: the sum over bins of (actual - expected) * ln(actual / expected), shares floored at <see cref="PsiFloor"/>.</summary>
    public static double PsiOfShares(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        if (expected.Count != actual.Count) throw new ArgumentException("both share vectors need the same bins");
        var psi = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            var e = Math.Max(expected[i], PsiFloor);
            var a = Math.Max(actual[i], PsiFloor);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }

    /// <summary>The <paramref name="q"/> quantile of sorted values, interpolating linearly between order statistics.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 1) return sorted[0];
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    // Bin i holds values in (cut[i-1], cut[i]]; the last bin everything above the last cut.
    private static double[] Shares(IReadOnlyList<double> values, List<double> cuts)
    {
        var counts = new double[cuts.Count + 1];
        foreach (var v in values)
        {
            var bin = cuts.BinarySearch(v);
            counts[bin >= 0 ? bin : ~bin]++;
        }
        for (var i = 0; i < counts.Length; i++) counts[i] /= values.Count;
        return counts;
    }

    /// <summary>
    /// The two-sample Kolmogorov-Smirnov test: D, the largest vertical distance between the samples' empirical CDFs, and
    /// its asymptotic p-value Q_KS((sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D) with ne = n*m/(n+m) (Stephens' correction).
    /// </summary>
    public static (double D, double P) KolmogorovSmirnov(double[] first, double[] second)
    {
        if (first.Length == 0 || second.Length == 0) return (double.NaN, double.NaN);
        var a = (double[])first.Clone();
        var b = (double[])second.Clone();
        Array.Sort(a);
        Array.Sort(b);
        int i = 0, j = 0;
        var d = 0.0;
        while (i < a.Length && j < b.Length)
        {
            // Step past every copy of the smaller value on both sides, so ties move both CDFs at once.
            var x = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] == x) i++;
            while (j < b.Length && b[j] == x) j++;
            d = Math.Max(d, Math.Abs((double)i / a.Length - (double)j / b.Length));
        }
        var ne = (double)a.Length * b.Length / (a.Length + b.Length);
        var root = Math.Sqrt(ne);
        return (d, KolmogorovQ((root + 0.12 + 0.11 / root) * d));
    }

    /// <summary>The Kolmogorov distribution's tail Q(lambda) = 2 * sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2), in [0, 1].</summary>
    public static double KolmogorovQ(double lambda)
    {
        if (lambda < 0.2) return 1.0; // the series converges slowly here and the tail is 1 to many digits
        var sum = 0.0;
        var sign = 1.0;
        for (var j = 1; j <= 100; j++)
        {
            var term = sign * Math.Exp(-2.0 * j * j * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-12 * Math.Abs(sum)) break;
            sign = -sign;
        }
        return Math.Clamp(2.0 * sum, 0.0, 1.0);
    }

    /// <summary>
    /// The chi-square test of homogeneity of two samples of categories (a 2 x k contingency table): the statistic, its
    /// degrees of freedom (k - 1, k = categories seen in either sample) and p-value. Categories are compared by ordinal text.
    /// </summary>
    public static (double ChiSquare, int DegreesOfFreedom, double P) ChiSquareHomogeneity(IReadOnlyDictionary<string, long> first, IReadOnlyDictionary<string, long> second)
    {
        var categories = first.Keys.Union(second.Keys, StringComparer.Ordinal).ToList();
        double n1 = first.Values.Sum(), n2 = second.Values.Sum();
        if (n1 == 0 || n2 == 0 || categories.Count < 2) return (0, Math.Max(0, categories.Count - 1), 1.0);
        var total = n1 + n2;
        var statistic = 0.0;
        foreach (var category in categories)
        {
            double o1 = first.GetValueOrDefault(category), o2 = second.GetValueOrDefault(category);
            var column = o1 + o2;
            var e1 = n1 * column / total;
            var e2 = n2 * column / total;
            statistic += (o1 - e1) * (o1 - e1) / e1 + (o2 - e2) * (o2 - e2) / e2;
        }
        var df = categories.Count - 1;
        return (statistic, df, ChiSquareP(statistic, df));
    }

    /// <summary>P(X &gt;= x) for X chi-square with <paramref name="df"/> degrees of freedom: the regularized upper incomplete gamma Q(df/2, x/2).</summary>
    public static double ChiSquareP(double x, int df)
    {
        if (df <= 0) return 1.0;
        if (x <= 0) return 1.0;
        return UpperGamma(df / 2.0, x / 2.0);
    }

    /// <summary>The statistic at which the chi-square p-value with <paramref name="df"/> degrees of freedom equals <paramref name="p"/> (bisection).</summary>
    public static double ChiSquareCritical(double p, int df)
    {
        if (df <= 0) return double.PositiveInfinity;
        double low = 0, high = Math.Max(10.0, df * 10.0);
        while (ChiSquareP(high, df) > p) high *= 2;
        for (var i = 0; i < 200; i++)
        {
            var mid = (low + high) / 2;
            if (ChiSquareP(mid, df) > p) low = mid; else high = mid;
        }
        return (low + high) / 2;
    }

    // Regularized upper incomplete gamma Q(a, x): the power series of P below a + 1, Lentz's continued fraction above.
    private static double UpperGamma(double a, double x)
    {
        var logPrefix = -x + a * Math.Log(x) - LogGamma(a);
        if (x < a + 1)
        {
            double term = 1.0 / a, sum = term;
            for (var n = 1; n < 1000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-15) break;
            }
            return Math.Clamp(1.0 - sum * Math.Exp(logPrefix), 0.0, 1.0);
        }
        const double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15) break;
        }
        return Math.Clamp(Math.Exp(logPrefix) * h, 0.0, 1.0);
    }

    // Lanczos approximation (g = 7, n = 9), accurate to about 15 digits for a > 0.
    private static double LogGamma(double a)
    {
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (a < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * a)) - LogGamma(1 - a);
        a -= 1;
        var sum = c[0];
        var t = a + 7.5;
        for (var i = 1; i < 9; i++) sum += c[i] / (a + i);
        return 0.5 * Math.Log(2 * Math.PI) + (a + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
