using Feast.Types;
using Google.Protobuf.WellKnownTypes;
using Granary.Contracts;
using Value = Feast.Types.Value;

namespace Granary.Client;

/// <summary>CLR values to and from Feast's <c>Value</c>; the gateway reads request values as the registry declares them.</summary>
internal static class Values
{
    public static Value ToProto(object? value, string column, int row) => FeastValues.TryFromClr(value, out var proto) ? proto
        : throw new ArgumentException(
            $"{column}[{row}] is a {value!.GetType().Name} ({value}); give long, int, double, float, bool, string, byte[], DateTimeOffset or a list of those.", column);

    /// <summary>Row-major entity rows to Feast's column-major map; every row must name the same columns.</summary>
    public static Dictionary<string, RepeatedValue> Columns(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, string what)
    {
        if (rows.Count == 0) throw new ArgumentException($"{what}: no rows given; pass at least one row.", nameof(rows));
        var columns = new Dictionary<string, RepeatedValue>(StringComparer.Ordinal);
        foreach (var name in rows[0].Keys) columns[name] = new RepeatedValue();
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Count != columns.Count || rows[i].Keys.Any(k => !columns.ContainsKey(k)))
                throw new ArgumentException($"{what}: row {i} has the columns [{string.Join(", ", rows[i].Keys)}] but row 0 has [{string.Join(", ", columns.Keys)}]; give every row the same columns.", nameof(rows));
            foreach (var (name, value) in rows[i]) columns[name].Val.Add(ToProto(value, name, i));
        }
        return columns;
    }

    public static DateTimeOffset? Time(Timestamp? t) => t is null || (t.Seconds == 0 && t.Nanos == 0) ? null : t.ToDateTimeOffset();
}
