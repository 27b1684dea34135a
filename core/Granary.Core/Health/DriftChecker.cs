using System.Globalization;
using Granary.Definitions;
using Granary.Offline;
using Granary.Repository;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.FeatureHealth;

/// <summary>
/// Compares the feature values the gateway served (the feature log, <see cref="FeatureLogTable"/>) in a window with a
/// training set, feature by feature: numbers (Int32, Int64, Float32, Float64) by PSI over the baseline's deciles and the
/// two-sample Kolmogorov-Smirnov test, categories (String, Bool) by the chi-square test of homogeneity, and every feature
/// by the difference of NULL rates. Other types (bytes, timestamps, lists) are not compared.
/// </summary>
/// <remarks>
/// A baseline column is found by the feature's full name (<c>view__feature</c>) first, then by its plain name. NaN counts
/// as NULL. A feature drifted when PSI &gt; the PSI threshold, the KS p-value &lt; its threshold (or D &gt; the optional D
/// threshold), the chi-square p-value &lt; its threshold, or |served NULL rate - baseline NULL rate| &gt; the NULL-rate threshold.
/// </remarks>
public sealed class DriftChecker(IEnumerable<IOfflineStore> offlineStores, ITrainingSetReader trainingSets, TimeProvider time)
{
    private readonly IReadOnlyList<IOfflineStore> _stores = offlineStores.ToList();

    /// <summary>Runs the check; <paramref name="logFolder"/> is feature_logging.path, <paramref name="repositoryRoot"/> resolves relative paths.</summary>
    public async Task<DriftReport> RunAsync(RegistrySnapshot snapshot, DriftRequest request, string logFolder, string? repositoryRoot, DriftThresholds thresholds,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(request.Baseline))
            throw new DriftException("no baseline given", "pass --baseline <training set .parquet or .csv> (or set health.drift_baseline in granary.yaml)");
        if (request.Window <= TimeSpan.Zero) throw new DriftException($"window {request.Window} is not positive", "pass a window such as 24h");
        var baselinePath = repositoryRoot is null || Path.IsPathRooted(request.Baseline) ? Path.GetFullPath(request.Baseline) : Path.GetFullPath(Path.Combine(repositoryRoot, request.Baseline));
        var explicitViews = request.Views.Count > 0;
        var views = explicitViews ? request.Views.Distinct(StringComparer.Ordinal).Select(name => snapshot.FindFeatureView(name) ?? throw new DriftException(
                $"feature view '{name}' is not in the registry of project '{snapshot.Project}'; known: {string.Join(", ", snapshot.FeatureViews.Select(v => v.Name).DefaultIfEmpty("(none)"))}")).ToList()
            : snapshot.FeatureViews.ToList();

        var wanted = new Dictionary<string, ValueType>(StringComparer.Ordinal);
        foreach (var view in views)
            foreach (var feature in view.Features.Where(f => Compared(view, f)))
            {
                wanted[$"{view.Name}__{feature.Name}"] = feature.Type;
                wanted.TryAdd(feature.Name, feature.Type);
            }
        var baseline = await trainingSets.ReadColumnsAsync(baselinePath, wanted, cancellationToken);

        var now = time.GetUtcNow();
        var results = new List<DriftViewResult>();
        foreach (var view in views)
        {
            var features = view.Features
                .Where(f => Compared(view, f))
                .Select(f => (Field: f, Column: baseline.ContainsKey($"{view.Name}__{f.Name}") ? $"{view.Name}__{f.Name}" : baseline.ContainsKey(f.Name) ? f.Name : null))
                .Where(f => f.Column is not null).ToList();
            if (features.Count == 0)
            {
                if (explicitViews)
                    throw new DriftException($"baseline '{baselinePath}' has no column for any feature of view '{view.Name}' (looked for {string.Join(", ", view.Features.Select(f => $"{view.Name}__{f.Name} or {f.Name}"))})",
                        "pass the training set retrieved with this view's features");
                continue;
            }
            var source = FeatureLogTable.SourceOf(logFolder, view.Name);
            var store = _stores.FirstOrDefault(s => s.CanRead(source))
                ?? throw new DriftException("no offline store of this silo reads the feature log (a file source)");
            var served = features.Select(_ => new List<object?>()).ToList();
            await foreach (var row in FeatureLogTable.ReadAsync(store, logFolder, repositoryRoot, view, features.Select(f => f.Field.Name).ToList(), now - request.Window, now, cancellationToken))
                for (var f = 0; f < features.Count; f++) served[f].Add(row[f]);
            if (served[0].Count == 0 && !explicitViews) continue;

            var featureResults = new List<DriftFeatureResult>(features.Count);
            for (var f = 0; f < features.Count; f++)
                featureResults.Add(Compare(features[f].Field, baseline[features[f].Column!], served[f], thresholds));
            results.Add(new DriftViewResult
            {
                FeatureView = view.Name, CheckedAt = now, ServedRows = served[0].Count, BaselineRows = baseline[features[0].Column!].Count, Features = featureResults,
            });
        }
        return new DriftReport(results);
    }

    // Features tagged pii are logged masked (hashed or fixed), so their served values cannot be compared with a clear baseline.
    private static bool Compared(FeatureView view, Field feature) => KindOf(feature.Type) is not null && !Core.Security.PiiCatalog.IsPii(view, feature, out _);

    /// <summary>The kind a value type is compared as; null for types drift does not compare.</summary>
    public static DriftKind? KindOf(ValueType type) => type.IsList ? null : type.Scalar switch
    {
        ScalarType.Int32 or ScalarType.Int64 or ScalarType.Float32 or ScalarType.Float64 => DriftKind.Numeric,
        ScalarType.String or ScalarType.Bool => DriftKind.Categorical,
        _ => null,
    };

    /// <summary>One feature's statistics and verdict, from its baseline and served values (nulls included).</summary>
    public static DriftFeatureResult Compare(Field feature, IReadOnlyList<object?> baseline, IReadOnlyList<object?> served, DriftThresholds thresholds)
    {
        var kind = KindOf(feature.Type) ?? throw new ArgumentException($"feature '{feature.Name}' of type {feature.Type} is not compared for drift");
        var reasons = new List<string>();
        var nullDifference = NullRate(served) - NullRate(baseline);
        if (served.Count > 0 && baseline.Count > 0 && Math.Abs(nullDifference) > thresholds.NullRate)
            reasons.Add($"null rate differs by {F(nullDifference)} (threshold {F(thresholds.NullRate)})");
        else if (served.Count == 0 || baseline.Count == 0) nullDifference = 0;

        if (kind == DriftKind.Numeric)
        {
            var b = Numbers(baseline);
            var s = Numbers(served);
            double? psi = null, ks = null, ksP = null;
            if (b.Length > 0 && s.Length > 0)
            {
                psi = DriftStatistics.Psi(b, s);
                (var d, var p) = DriftStatistics.KolmogorovSmirnov(b, s);
                (ks, ksP) = (d, p);
                if (psi > thresholds.Psi) reasons.Add($"psi {F(psi.Value)} > {F(thresholds.Psi)}");
                if (p < thresholds.KsPValue) reasons.Add($"ks p {F(p)} < {F(thresholds.KsPValue)} (D {F(d)})");
                else if (thresholds.KsD is { } limit && d > limit) reasons.Add($"ks D {F(d)} > {F(limit)}");
            }
            return new DriftFeatureResult
            {
                Feature = feature.Name, Kind = kind, ServedValues = s.Length, BaselineValues = b.Length, Psi = psi, Ks = ks, KsP = ksP,
                NullRateDifference = nullDifference, Threshold = thresholds.Psi, Reasons = reasons,
            };
        }

        var bc = Categories(baseline);
        var sc = Categories(served);
        double? chi = null, chiP = null, critical = null;
        if (bc.Count > 0 && sc.Count > 0)
        {
            var (statistic, df, p) = DriftStatistics.ChiSquareHomogeneity(bc, sc);
            (chi, chiP) = (statistic, p);
            critical = df > 0 ? DriftStatistics.ChiSquareCritical(thresholds.ChiSquarePValue, df) : null;
            if (p < thresholds.ChiSquarePValue) reasons.Add($"chi-square p {F(p)} < {F(thresholds.ChiSquarePValue)} (statistic {F(statistic)}, {df} degrees of freedom)");
        }
        return new DriftFeatureResult
        {
            Feature = feature.Name, Kind = kind, ServedValues = sc.Values.Sum(), BaselineValues = bc.Values.Sum(), ChiSquare = chi, ChiSquareP = chiP,
            NullRateDifference = nullDifference, Threshold = critical, Reasons = reasons,
        };
    }

    private static double NullRate(IReadOnlyList<object?> values)
    {
        if (values.Count == 0) return 0;
        var nulls = 0;
        foreach (var v in values) if (v is null || v is double.NaN || v is float.NaN) nulls++;
        return (double)nulls / values.Count;
    }

    private static double[] Numbers(IReadOnlyList<object?> values)
    {
        var numbers = new List<double>(values.Count);
        foreach (var v in values)
        {
            double? x = v switch { double d => d, float f => f, long l => l, int i => i, short s => s, decimal m => (double)m, _ => null };
            if (x is { } n && !double.IsNaN(n)) numbers.Add(n);
        }
        return [.. numbers];
    }

    private static Dictionary<string, long> Categories(IReadOnlyList<object?> values)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var v in values)
        {
            if (v is null) continue;
            var key = v is bool b ? (b ? "true" : "false") : Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    private static string F(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
