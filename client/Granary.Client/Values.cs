using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Value = Feast.Types.Value;

namespace Granary.Client;

/// <summary>CLR values to and from Feast's <c>Value</c>; the gateway reads request values as the registry declares them.</summary>
internal static class Values
{
    public static Value ToProto(object? value, string column, int row) => value switch
    {
        null => new Value { NullVal = Null.Null },
        long v => new Value { Int64Val = v },
        int v => new Value { Int32Val = v },
        double v => new Value { DoubleVal = v },
        float v => new Value { FloatVal = v },
        bool v => new Value { BoolVal = v },
        string v => new Value { StringVal = v },
        byte[] v => new Value { BytesVal = ByteString.CopyFrom(v) },
        DateTimeOffset v => new Value { UnixTimestampVal = v.ToUnixTimeSeconds() },
        DateTime v => new Value { UnixTimestampVal = new DateTimeOffset(v.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : v).ToUnixTimeSeconds() },
        IEnumerable<long> v => new Value { Int64ListVal = new Int64List { Val = { v } } },
        IEnumerable<int> v => new Value { Int32ListVal = new Int32List { Val = { v } } },
        IEnumerable<double> v => new Value { DoubleListVal = new DoubleList { Val = { v } } },
        IEnumerable<float> v => new Value { FloatListVal = new FloatList { Val = { v } } },
        IEnumerable<bool> v => new Value { BoolListVal = new BoolList { Val = { v } } },
        IEnumerable<string> v => new Value { StringListVal = new StringList { Val = { v } } },
        _ => throw new ArgumentException(
            $"{column}[{row}] is a {value.GetType().Name} ({value}); give long, int, double, float, bool, string, byte[], DateTimeOffset or a list of those.", column),
    };

    public static object? FromProto(Value value) => value.ValCase switch
    {
        Value.ValOneofCase.Int64Val => value.Int64Val,
        Value.ValOneofCase.Int32Val => value.Int32Val,
        Value.ValOneofCase.DoubleVal => value.DoubleVal,
        Value.ValOneofCase.FloatVal => value.FloatVal,
        Value.ValOneofCase.BoolVal => value.BoolVal,
        Value.ValOneofCase.StringVal => value.StringVal,
        Value.ValOneofCase.BytesVal => value.BytesVal.ToByteArray(),
        Value.ValOneofCase.UnixTimestampVal => DateTimeOffset.FromUnixTimeSeconds(value.UnixTimestampVal),
        Value.ValOneofCase.Int64ListVal => value.Int64ListVal.Val.ToArray(),
        Value.ValOneofCase.Int32ListVal => value.Int32ListVal.Val.ToArray(),
        Value.ValOneofCase.DoubleListVal => value.DoubleListVal.Val.ToArray(),
        Value.ValOneofCase.FloatListVal => value.FloatListVal.Val.ToArray(),
        Value.ValOneofCase.BoolListVal => value.BoolListVal.Val.ToArray(),
        Value.ValOneofCase.StringListVal => value.StringListVal.Val.ToArray(),
        Value.ValOneofCase.BytesListVal => value.BytesListVal.Val.Select(b => b.ToByteArray()).ToArray(),
        Value.ValOneofCase.UnixTimestampListVal => value.UnixTimestampListVal.Val.Select(DateTimeOffset.FromUnixTimeSeconds).ToArray(),
        _ => null,
    };

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
