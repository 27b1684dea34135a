using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Granary.Definitions;
using Granary.Offline;
using Granary.Online;
using Granary.Serving;

namespace Granary.FeatureHealth;

/// <summary>
/// Compares what the online tier serves with what training would read: for a seeded sample of entities that have offline
/// rows, the offline point-in-time result at now (the same planner and offline store as <c>get-historical-features</c>, one
/// entity row per entity with <c>event_timestamp = now</c>) against the online read (the same <see cref="OnlineRetrieval"/>
/// as the gateway), feature by feature.
/// </summary>
/// <remarks>
/// Rules, the same on both sides: a side "has no value" when offline the join found no row within the ttl or the value is
/// NULL, and online the status is NOT_FOUND, NULL_VALUE or OUTSIDE_MAX_AGE (a value older than the ttl is not served as
/// valid, exactly as offline ignores rows older than <c>now - ttl</c>). Two sides without a value match. Two values match
/// when equal: integers, strings, booleans, bytes and timestamps exactly; Float64 within 1e-9 relative (absolute below 1),
/// Float32 within 1e-6 relative (the online codec keeps the 32-bit value; engines may print or widen it differently);
/// lists element by element. Offline "now" is taken when the check starts; online values are evaluated at the silo's
/// clock a moment later, so a value that crosses its ttl in between may show as one mismatch.
/// </remarks>
public sealed class ParityChecker(IEnumerable<IOfflineStore> offlineStores, IOnlineFeatureSource online, TimeProvider time)
{
    /// <summary>Mismatches kept per view (all are counted).</summary>
    public const int MaxMismatchesPerView = 100;

    private const string TimestampColumn = "event_timestamp";
    private static readonly DateTimeOffset Earliest = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly IReadOnlyList<IOfflineStore> _all = offlineStores.ToList();
    private OfflineStoreSelector Stores => new(_all);

    /// <summary>Runs the check for <paramref name="request"/>; <paramref name="workFolder"/> holds the temporary join output.</summary>
    /// <exception cref="ParityException">An unknown or offline-only view, or a sample size below 1.</exception>
    public async Task<ParityReport> RunAsync(RegistrySnapshot snapshot, ParityRequest request, string workFolder, CancellationToken cancellationToken = default)
    {
        if (request.Sample < 1) throw new ParityException($"sample size {request.Sample} is below 1", "pass --sample 1 or more (default 100)");
        var views = ChooseViews(snapshot, request.Views);
        var results = new List<ParityViewResult>(views.Count);
        foreach (var view in views) results.Add(await CheckViewAsync(snapshot, view, request, workFolder, cancellationToken));
        return new ParityReport(results);
    }

    /// <summary>The views to check: the named ones (each must exist and be online), or every online view.</summary>
    public static IReadOnlyList<FeatureView> ChooseViews(RegistrySnapshot snapshot, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return snapshot.FeatureViews.Where(v => v.Online).ToList();
        var chosen = new List<FeatureView>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            var view = snapshot.FindFeatureView(name) ?? throw new ParityException(
                $"feature view '{name}' is not in the registry of project '{snapshot.Project}'; known: {string.Join(", ", snapshot.FeatureViews.Select(v => v.Name).DefaultIfEmpty("(none)"))}");
            if (!view.Online) throw new ParityException($"feature view '{name}' has online: false, so nothing is served to compare", "leave it out, or set online: true, apply and materialize");
            chosen.Add(view);
        }
        return chosen;
    }

    private async Task<ParityViewResult> CheckViewAsync(RegistrySnapshot snapshot, FeatureView view, ParityRequest request, string workFolder, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var plan = HistoricalRetrievalPlanner.ForFeatures(snapshot, view.Features.Select(f => new FeatureReference(view.Name, f.Name)).ToList(), fullFeatureNames: false);
        var retrieval = plan.Views[0];
        var store = Stores.For(plan);
        var keys = retrieval.JoinKeys;

        var sample = await SampleEntitiesAsync(store, snapshot.Project, retrieval, now, request, cancellationToken);
        if (sample.Count == 0)
            return new ParityViewResult { FeatureView = view.Name, CheckedAt = now, Entities = 0, Compared = 0, Matching = 0, Mismatches = [] };

        var offline = await ReadOfflineAsync(store, _all, snapshot.Project, plan, sample, now, workFolder, cancellationToken);

        var entityColumns = new Dictionary<string, IReadOnlyList<object?>>(StringComparer.Ordinal);
        for (var k = 0; k < keys.Count; k++) entityColumns[keys[k].EntityColumn] = sample.Select(s => s.Values[k]).ToList();
        var served = await OnlineRetrieval.ExecuteAsync(new OnlineFeaturesRequest { Project = snapshot.Project, Entities = entityColumns, Plan = plan }, online, cancellationToken);

        long compared = 0, matching = 0;
        var mismatches = new List<ParityMismatch>();
        for (var f = 0; f < retrieval.Features.Count; f++)
        {
            var feature = retrieval.Features[f];
            var column = served.Results[IndexOf(served.FeatureNames, feature.ColumnName)];
            for (var e = 0; e < sample.Count; e++)
            {
                offline.TryGetValue(sample[e].Key, out var row);
                var offlineValue = row?[f];
                var status = column.Statuses[e];
                var onlineValue = column.Values[e];
                compared++;
                var reason = Compare(offlineValue, onlineValue, status, feature.Type);
                if (reason is null)
                {
                    matching++;
                    continue;
                }
                if (mismatches.Count < MaxMismatchesPerView)
                {
                    var entity = new Dictionary<string, string>(StringComparer.Ordinal);
                    for (var k = 0; k < keys.Count; k++) entity[keys[k].JoinKey] = Json(sample[e].Values[k]);
                    mismatches.Add(new ParityMismatch(entity, feature.Feature, offlineValue is null ? null : Json(offlineValue),
                        onlineValue is null ? null : Json(onlineValue), OnlineFeaturesJson.StatusName(status), reason));
                }
            }
        }
        return new ParityViewResult { FeatureView = view.Name, CheckedAt = now, Entities = sample.Count, Compared = compared, Matching = matching, Mismatches = mismatches };
    }

    /// <summary>
    /// Picks, among every entity with an offline row up to now, the <c>Sample</c> keys with the smallest seeded hash: the
    /// same seed picks the same entities whatever order the engine streams them in, holding only the sample in memory.
    /// </summary>
    private static async Task<List<SampledEntity>> SampleEntitiesAsync(IOfflineStore store, string project, ViewRetrieval retrieval, DateTimeOffset now,
        ParityRequest request, CancellationToken cancellationToken)
    {
        var query = new LatestRowsQuery
        {
            View = retrieval.View, Source = retrieval.Source, JoinKeys = retrieval.JoinKeys.Select(k => k.JoinKey).ToList(), Features = [],
            Start = Earliest, End = now,
        };
        // A max-heap on the hash (priority negated): the root is the largest hash kept, replaced by any smaller one.
        var kept = new PriorityQueue<SampledEntity, ulong>(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        await foreach (var row in store.ReadLatestRowsAsync(query, cancellationToken))
        {
            if (row.JoinKeyValues.Any(v => v is null)) continue;
            var key = KeyOf(project, retrieval.JoinKeys, row.JoinKeyValues);
            var hash = SeededHash(key, request.Seed);
            if (kept.Count < request.Sample) kept.Enqueue(new SampledEntity(key, row.JoinKeyValues, hash), hash);
            else if (kept.TryPeek(out _, out var largest) && hash < largest) kept.EnqueueDequeue(new SampledEntity(key, row.JoinKeyValues, hash), hash);
        }
        var sample = new List<SampledEntity>(kept.Count);
        while (kept.TryDequeue(out var entity, out _)) sample.Add(entity);
        sample.Sort((a, b) => a.Hash.CompareTo(b.Hash));
        return sample;
    }

    /// <summary>
    /// The point-in-time join at now for the sampled entities, written by the offline store to a temporary Parquet file and
    /// read back through the same store (one row per entity, typed by the view's schema); entity key -> feature values.
    /// </summary>
    private static async Task<Dictionary<string, object?[]>> ReadOfflineAsync(IOfflineStore store, IReadOnlyList<IOfflineStore> all, string project, HistoricalRetrievalPlan plan, List<SampledEntity> sample,
        DateTimeOffset now, string workFolder, CancellationToken cancellationToken)
    {
        var retrieval = plan.Views[0];
        var keys = retrieval.JoinKeys;
        var columns = keys.Select(k => k.EntityColumn).Append(TimestampColumn).ToList();
        var rows = sample.Select(s => (IReadOnlyList<object?>)[.. s.Values, now]).ToList();
        Directory.CreateDirectory(workFolder);
        var output = Path.Combine(Path.GetFullPath(workFolder), $"parity-{retrieval.View.Name}-{Guid.NewGuid():N}.parquet");
        try
        {
            await store.RunPointInTimeJoinAsync(new HistoricalRetrieval { Entities = EntityDataFrame.FromRows(columns, rows), Plan = plan, OutputPath = output }, null, cancellationToken);
            // Read the result back as the view's typed rows: the output's entity columns are unique per row, so "latest row
            // per key" returns every row.
            var resultSource = new FileSource { Name = $"parity_{retrieval.View.Name}", Path = output, TimestampField = TimestampColumn };
            var resultView = retrieval.View with { Source = resultSource.Name, Features = retrieval.Features.Select(f => new Field(f.ColumnName, f.Type)).ToList() };
            var query = new LatestRowsQuery
            {
                View = resultView, Source = resultSource, JoinKeys = keys.Select(k => k.EntityColumn).ToList(),
                Features = retrieval.Features.Select(f => f.ColumnName).ToList(), Start = now.AddDays(-1), End = now.AddDays(1),
            };
            // The join's engine may not read files (PostgreSQL writes its output through DuckDB): read with one that does.
            var reader = all.FirstOrDefault(s => s.CanRead(resultSource)) ?? store;
            var byKey = new Dictionary<string, object?[]>(StringComparer.Ordinal);
            await foreach (var row in reader.ReadLatestRowsAsync(query, cancellationToken))
                byKey[KeyOf(project, keys, row.JoinKeyValues)] = [.. row.FeatureValues];
            return byKey;
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>Null when the two sides agree; otherwise why they do not.</summary>
    public static string? Compare(object? offline, object? online, FeatureStatus status, Definitions.ValueType type)
    {
        var onlineHasValue = status is FeatureStatus.Present && online is not null;
        if (offline is null)
        {
            return onlineHasValue
                ? "online serves a value, but offline has no row within the ttl at now (or a NULL)"
                : null;
        }
        return status switch
        {
            FeatureStatus.NotFound => "offline has a value at now, online has none (NOT_FOUND: not materialized, or expired online)",
            FeatureStatus.OutsideMaxAge => "online holds an older value outside the ttl, while offline has one within it (materialization behind)",
            FeatureStatus.NullValue => "online holds NULL, offline has a value",
            _ => ValuesEqual(offline, online, type) ? null : "values differ",
        };
    }

    /// <summary>Whether two values of <paramref name="type"/> are equal under the parity rules (float tolerances in the class remarks).</summary>
    public static bool ValuesEqual(object? a, object? b, Definitions.ValueType type)
    {
        if (a is null || b is null) return a is null && b is null;
        if (type.IsList)
        {
            if (a is not IEnumerable la || b is not IEnumerable lb || a is string || b is string) return false;
            var left = la.Cast<object?>().ToList();
            var right = lb.Cast<object?>().ToList();
            if (left.Count != right.Count) return false;
            var scalar = type with { IsList = false };
            for (var i = 0; i < left.Count; i++) if (!ValuesEqual(left[i], right[i], scalar)) return false;
            return true;
        }
        return type.Scalar switch
        {
            ScalarType.Int32 or ScalarType.Int64 => ToLong(a) is { } x && ToLong(b) is { } y && x == y,
            ScalarType.Float64 => Close(ToDouble(a), ToDouble(b), 1e-9),
            ScalarType.Float32 => Close(ToDouble(a), ToDouble(b), 1e-6),
            ScalarType.Bool => a is bool p && b is bool q && p == q,
            ScalarType.String => a is string s && b is string t && string.Equals(s, t, StringComparison.Ordinal),
            ScalarType.Bytes => a is byte[] m && b is byte[] n && m.AsSpan().SequenceEqual(n),
            ScalarType.UnixTimestamp => ToInstant(a) is { } i && ToInstant(b) is { } j && i == j,
            _ => Equals(a, b),
        };
    }

    private static bool Close(double? a, double? b, double relative)
    {
        if (a is not { } x || b is not { } y) return false;
        if (double.IsNaN(x) || double.IsNaN(y)) return double.IsNaN(x) && double.IsNaN(y);
        if (x == y) return true;
        return Math.Abs(x - y) <= relative * Math.Max(1.0, Math.Max(Math.Abs(x), Math.Abs(y)));
    }

    private static long? ToLong(object v) => v switch
    {
        long l => l, int i => i, short s => s, sbyte b => b, byte u => u, ushort us => us, uint ui => ui,
        ulong ul when ul <= long.MaxValue => (long)ul,
        _ => null,
    };

    private static double? ToDouble(object v) => v switch
    {
        double d => d, float f => f, decimal m => (double)m, long l => l, int i => i,
        _ => null,
    };

    private static DateTimeOffset? ToInstant(object v) => v switch
    {
        DateTimeOffset o => o.ToUniversalTime(),
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, d.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : d.Kind)).ToUniversalTime(),
        _ => null,
    };

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++) if (names[i] == name) return i;
        throw new InvalidOperationException($"the online answer has no column '{name}'");
    }

    private static string KeyOf(string project, IReadOnlyList<JoinKeyBinding> keys, IReadOnlyList<object?> values)
    {
        var parts = new KeyValuePair<string, string>[keys.Count];
        for (var k = 0; k < keys.Count; k++) parts[k] = new(keys[k].JoinKey, EntityKey.FormatValue(keys[k].JoinKey, values[k]));
        return EntityKey.Create(project, parts).Canonical;
    }

    // FNV-1a over the canonical key, then a 64-bit finalizer mixed with the seed: stable across processes and runtimes.
    private static ulong SeededHash(string key, int seed)
    {
        var hash = 14695981039346656037UL ^ (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }

    /// <summary>A value as JSON text, as the gateway writes feature values.</summary>
    public static string Json(object? value)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            OnlineFeaturesJson.WriteValue(json, value is DateTime d ? ToInstant(d) : value);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private sealed record SampledEntity(string Key, IReadOnlyList<object?> Values, ulong Hash);
}

/// <summary>A parity check that cannot run as asked (unknown or offline-only view, bad sample size); the message says what to change.</summary>
public sealed class ParityException(string message, string? hint = null) : GranaryException(message, hint);
