using Granary.Definitions;
using Granary.Offline;
using Granary.Online;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.FeatureHealth;

/// <summary>
/// The offline table of logged feature vectors of one view: a Parquet folder <c>&lt;feature_logging.path&gt;/&lt;view&gt;</c>
/// with one row per served entity row: <c>log_id</c>, <c>request_ts</c>, <c>feature_service</c>, the join keys, every
/// logged feature as served (typed by the view's schema) and <c>&lt;feature&gt;__status</c> (PRESENT, NULL_VALUE, ...).
/// </summary>
public static class FeatureLogTable
{
    /// <summary>A unique id per logged row (the key that makes "latest row per key" read every row back).</summary>
    public const string LogIdColumn = "log_id";
    /// <summary>When the vector was served.</summary>
    public const string RequestTimeColumn = "request_ts";
    /// <summary>The feature service read, or NULL for feature references.</summary>
    public const string FeatureServiceColumn = "feature_service";
    /// <summary>The suffix of a feature's status column.</summary>
    public const string StatusSuffix = "__status";

    /// <summary>The log's file source for <paramref name="view"/> under <paramref name="logFolder"/> (relative to the repository, or absolute).</summary>
    public static FileSource SourceOf(string logFolder, string view)
        => new() { Name = $"feature_log__{view}", Path = Path.Combine(logFolder, view), TimestampField = RequestTimeColumn };

    /// <summary>
    /// The rows to append for one view: <paramref name="joinKeys"/> and <paramref name="features"/> name the columns,
    /// each row gives (request time, feature service, key values, values, statuses). Values that do not have the view's
    /// type (the view changed since) are logged as NULL rather than failing the batch.
    /// </summary>
    public static OfflineRowBatch Batch(RegistrySnapshot snapshot, FeatureView view, IReadOnlyList<string> joinKeys, IReadOnlyList<string> features,
        IEnumerable<(DateTimeOffset RequestTime, string? Service, object?[] Keys, object?[] Values, byte[] Statuses)> rows)
    {
        var columns = new List<OfflineColumn>
        {
            new(LogIdColumn, new ValueType(ScalarType.String)),
            new(RequestTimeColumn, new ValueType(ScalarType.UnixTimestamp)),
            new(FeatureServiceColumn, new ValueType(ScalarType.String)),
        };
        var keyTypes = joinKeys.Select(k => snapshot.Entities.FirstOrDefault(e => e.JoinKey == k)?.ValueType ?? new ValueType(ScalarType.String)).ToList();
        for (var k = 0; k < joinKeys.Count; k++) columns.Add(new(joinKeys[k], keyTypes[k]));
        var featureTypes = features.Select(f => view.Features.FirstOrDefault(x => x.Name == f)?.Type).ToList();
        for (var f = 0; f < features.Count; f++)
            if (featureTypes[f] is { } type) columns.Add(new(features[f], type));
        for (var f = 0; f < features.Count; f++)
            if (featureTypes[f] is not null) columns.Add(new(features[f] + StatusSuffix, new ValueType(ScalarType.String)));

        var output = new List<object?[]>();
        foreach (var (at, service, keys, values, statuses) in rows)
        {
            var row = new object?[columns.Count];
            var c = 0;
            row[c++] = Guid.NewGuid().ToString("N");
            row[c++] = at.ToUniversalTime();
            row[c++] = service;
            for (var k = 0; k < joinKeys.Count; k++) row[c++] = Coerce(keys[k], keyTypes[k]);
            for (var f = 0; f < features.Count; f++)
                if (featureTypes[f] is { } type) row[c++] = Coerce(values[f], type);
            for (var f = 0; f < features.Count; f++)
                if (featureTypes[f] is not null) row[c++] = OnlineFeaturesJsonStatus(statuses[f]);
            output.Add(row);
        }
        return new OfflineRowBatch(columns, output);
    }

    /// <summary>
    /// Streams the logged values of <paramref name="features"/> of <paramref name="view"/> served in [start, end] (one
    /// array per logged row, in <paramref name="features"/> order); nothing when no log was written yet.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<object?>> ReadAsync(IOfflineStore store, string logFolder, string? repositoryRoot, FeatureView view,
        IReadOnlyList<string> features, DateTimeOffset start, DateTimeOffset end, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var source = SourceOf(logFolder, view.Name);
        var folder = Path.IsPathRooted(source.Path) || repositoryRoot is null ? source.Path : Path.Combine(repositoryRoot, source.Path);
        if (!Directory.Exists(folder) || !Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Any()) yield break;
        var query = new LatestRowsQuery
        {
            View = view with { Source = source.Name }, Source = source, JoinKeys = [LogIdColumn], Features = features, Start = start, End = end,
        };
        await foreach (var row in store.ReadLatestRowsAsync(query, cancellationToken)) yield return row.FeatureValues;
    }

    private static string OnlineFeaturesJsonStatus(byte status)
        => Enum.IsDefined((FeatureStatus)status) ? Serving.OnlineFeaturesJson.StatusName((FeatureStatus)status) : status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // The gateway logs what it served; a value of another CLR type than the column's (a view changed between the read and
    // the write) becomes NULL so one odd row never loses the batch.
    private static object? Coerce(object? value, ValueType type)
    {
        if (value is null) return null;
        if (OnlineValueTypes.TryGetValueType(value, out var given) && given == type) return value;
        return (type.IsList, type.Scalar, value) switch
        {
            (false, ScalarType.Int64, int i) => (long)i,
            (false, ScalarType.Int32, long l) when l is >= int.MinValue and <= int.MaxValue => (int)l,
            (false, ScalarType.Float64, float f) => (double)f,
            (false, ScalarType.Float64, long l) => (double)l,
            (false, ScalarType.Float32, double d) => (float)d,
            (false, ScalarType.String, _) => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
    }
}
