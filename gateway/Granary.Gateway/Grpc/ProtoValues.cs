using Feast.Serving;
using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Granary.Definitions;
using Granary.Online;
using Granary.Serving;
using Value = Feast.Types.Value;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Between Feast's <c>feast.types.Value</c> and Granary's values, by the declared type: responses use the oneof member of
/// the view's schema type; requests accept the member of the declared type, and only lossless alternatives Feast's
/// clients send (int64 for an Int32 key within range, int32 for Int64, double for Float32); anything else is an error
/// naming the column, the row and the value.
/// </summary>
public static class ProtoValues
{
    /// <summary>The proto form of <paramref name="value"/> declared as <paramref name="type"/>; null is an empty Value, as Feast sends.</summary>
    public static Value ToProto(object? value, ValueType type)
    {
        var proto = new Value();
        if (value is null) return proto;
        if (type.IsList)
        {
            var items = (System.Collections.IEnumerable)value;
            switch (type.Scalar)
            {
                case ScalarType.Int32: proto.Int32ListVal = new Int32List(); foreach (var v in items) proto.Int32ListVal.Val.Add(Convert.ToInt32(v)); break;
                case ScalarType.Int64: proto.Int64ListVal = new Int64List(); foreach (var v in items) proto.Int64ListVal.Val.Add(Convert.ToInt64(v)); break;
                case ScalarType.Float32: proto.FloatListVal = new FloatList(); foreach (var v in items) proto.FloatListVal.Val.Add(Convert.ToSingle(v)); break;
                case ScalarType.Float64: proto.DoubleListVal = new DoubleList(); foreach (var v in items) proto.DoubleListVal.Val.Add(Convert.ToDouble(v)); break;
                case ScalarType.Bool: proto.BoolListVal = new BoolList(); foreach (var v in items) proto.BoolListVal.Val.Add((bool)v!); break;
                case ScalarType.String: proto.StringListVal = new StringList(); foreach (var v in items) proto.StringListVal.Val.Add((string)v!); break;
                case ScalarType.Bytes: proto.BytesListVal = new BytesList(); foreach (var v in items) proto.BytesListVal.Val.Add(ByteString.CopyFrom((byte[])v!)); break;
                default: proto.UnixTimestampListVal = new Int64List(); foreach (var v in items) proto.UnixTimestampListVal.Val.Add(((DateTimeOffset)v!).ToUnixTimeSeconds()); break;
            }
            return proto;
        }
        // The stored type first (no IConvertible dispatch); Convert for anything else, as before.
        switch (type.Scalar)
        {
            case ScalarType.Int32: proto.Int32Val = value is int i32 ? i32 : Convert.ToInt32(value); break;
            case ScalarType.Int64: proto.Int64Val = value is long i64 ? i64 : Convert.ToInt64(value); break;
            case ScalarType.Float32: proto.FloatVal = value is float f32 ? f32 : Convert.ToSingle(value); break;
            case ScalarType.Float64: proto.DoubleVal = value is double f64 ? f64 : Convert.ToDouble(value); break;
            case ScalarType.Bool: proto.BoolVal = (bool)value; break;
            case ScalarType.String: proto.StringVal = (string)value; break;
            case ScalarType.Bytes: proto.BytesVal = ByteString.CopyFrom((byte[])value); break;
            default: proto.UnixTimestampVal = ((DateTimeOffset)value).ToUnixTimeSeconds(); break;
        }
        return proto;
    }

    /// <summary>The values of a request column as <paramref name="type"/>; <paramref name="where"/> names it in errors (e.g. <c>entities.driver_id</c>).</summary>
    public static IReadOnlyList<object?> ReadColumn(RepeatedValue column, ValueType type, string where)
    {
        var values = new object?[column.Val.Count];
        for (var r = 0; r < values.Length; r++) values[r] = FromProto(column.Val[r], type, $"{where}[{r}]");
        return values;
    }

    /// <summary>One request value as <paramref name="type"/>; an unset Value and null_val are null.</summary>
    public static object? FromProto(Value value, ValueType type, string where)
    {
        var c = value.ValCase;
        if (c is Value.ValOneofCase.None or Value.ValOneofCase.NullVal) return null;
        if (type.IsList)
        {
            object? list = (type.Scalar, c) switch
            {
                (ScalarType.Int32, Value.ValOneofCase.Int32ListVal) => value.Int32ListVal.Val.ToArray(),
                (ScalarType.Int64, Value.ValOneofCase.Int64ListVal) => value.Int64ListVal.Val.ToArray(),
                (ScalarType.Int64, Value.ValOneofCase.Int32ListVal) => value.Int32ListVal.Val.Select(v => (long)v).ToArray(),
                (ScalarType.Float32, Value.ValOneofCase.FloatListVal) => value.FloatListVal.Val.ToArray(),
                (ScalarType.Float64, Value.ValOneofCase.DoubleListVal) => value.DoubleListVal.Val.ToArray(),
                (ScalarType.Float64, Value.ValOneofCase.FloatListVal) => value.FloatListVal.Val.Select(v => (double)v).ToArray(),
                (ScalarType.Bool, Value.ValOneofCase.BoolListVal) => value.BoolListVal.Val.ToArray(),
                (ScalarType.String, Value.ValOneofCase.StringListVal) => value.StringListVal.Val.ToArray(),
                (ScalarType.Bytes, Value.ValOneofCase.BytesListVal) => value.BytesListVal.Val.Select(b => b.ToByteArray()).ToArray(),
                (ScalarType.UnixTimestamp, Value.ValOneofCase.UnixTimestampListVal) => value.UnixTimestampListVal.Val.Select((s, i) => RequestTimes.FromEpochSeconds(s, $"{where}[{i}]")).ToArray(),
                _ => null,
            };
            return list ?? throw Mismatch(value, type, where);
        }
        object? scalar = (type.Scalar, c) switch
        {
            (ScalarType.Int32, Value.ValOneofCase.Int32Val) => value.Int32Val,
            (ScalarType.Int32, Value.ValOneofCase.Int64Val) when value.Int64Val is >= int.MinValue and <= int.MaxValue => (int)value.Int64Val,
            (ScalarType.Int64, Value.ValOneofCase.Int64Val) => value.Int64Val,
            (ScalarType.Int64, Value.ValOneofCase.Int32Val) => (long)value.Int32Val,
            (ScalarType.Float32, Value.ValOneofCase.FloatVal) => value.FloatVal,
            (ScalarType.Float32, Value.ValOneofCase.DoubleVal) => (float)value.DoubleVal,
            (ScalarType.Float64, Value.ValOneofCase.DoubleVal) => value.DoubleVal,
            (ScalarType.Float64, Value.ValOneofCase.FloatVal) => (double)value.FloatVal,
            (ScalarType.Bool, Value.ValOneofCase.BoolVal) => value.BoolVal,
            (ScalarType.String, Value.ValOneofCase.StringVal) => value.StringVal,
            (ScalarType.Bytes, Value.ValOneofCase.BytesVal) => value.BytesVal.ToByteArray(),
            (ScalarType.UnixTimestamp, Value.ValOneofCase.UnixTimestampVal) => RequestTimes.FromEpochSeconds(value.UnixTimestampVal, where),
            _ => null,
        };
        return scalar ?? throw Mismatch(value, type, where);
    }

    /// <summary>Feast's <c>ValueType.Enum</c> of a declared type.</summary>
    public static Feast.Types.ValueType.Types.Enum TypeEnum(ValueType type) => (type.Scalar, type.IsList) switch
    {
        (ScalarType.Int32, false) => Feast.Types.ValueType.Types.Enum.Int32,
        (ScalarType.Int64, false) => Feast.Types.ValueType.Types.Enum.Int64,
        (ScalarType.Float32, false) => Feast.Types.ValueType.Types.Enum.Float,
        (ScalarType.Float64, false) => Feast.Types.ValueType.Types.Enum.Double,
        (ScalarType.Bool, false) => Feast.Types.ValueType.Types.Enum.Bool,
        (ScalarType.String, false) => Feast.Types.ValueType.Types.Enum.String,
        (ScalarType.Bytes, false) => Feast.Types.ValueType.Types.Enum.Bytes,
        (ScalarType.UnixTimestamp, false) => Feast.Types.ValueType.Types.Enum.UnixTimestamp,
        (ScalarType.Int32, true) => Feast.Types.ValueType.Types.Enum.Int32List,
        (ScalarType.Int64, true) => Feast.Types.ValueType.Types.Enum.Int64List,
        (ScalarType.Float32, true) => Feast.Types.ValueType.Types.Enum.FloatList,
        (ScalarType.Float64, true) => Feast.Types.ValueType.Types.Enum.DoubleList,
        (ScalarType.Bool, true) => Feast.Types.ValueType.Types.Enum.BoolList,
        (ScalarType.String, true) => Feast.Types.ValueType.Types.Enum.StringList,
        (ScalarType.Bytes, true) => Feast.Types.ValueType.Types.Enum.BytesList,
        _ => Feast.Types.ValueType.Types.Enum.UnixTimestampList,
    };

    /// <summary>Feast's response message for <paramref name="response"/>, each column's values in its declared type.</summary>
    public static GetOnlineFeaturesResponse ToProto(OnlineFeaturesResponse response, IReadOnlyDictionary<string, ValueType> types)
    {
        var proto = new GetOnlineFeaturesResponse { Metadata = new GetOnlineFeaturesResponseMetadata { FeatureNames = new FeatureList() } };
        proto.Metadata.FeatureNames.Val.AddRange(response.FeatureNames);
        proto.Results.Capacity = response.Results.Count;
        // The features of one view share their entity row's event time, and every null the same empty Value: one
        // message per distinct (row, time) and one empty Value per response, referenced many times (the wire is the same).
        var rows = response.Results.Count == 0 ? 0 : response.Results[0].Values.Length;
        var stampAt = new DateTimeOffset[rows];
        var stamps = new Timestamp?[rows];
        var noTime = new Timestamp();
        var nullValue = new Value();
        for (var c = 0; c < response.Results.Count; c++)
        {
            var column = response.Results[c];
            var type = types.TryGetValue(response.FeatureNames[c], out var t) ? t : new ValueType(ScalarType.String);
            var vector = new GetOnlineFeaturesResponse.Types.FeatureVector();
            var count = column.Values.Length;
            vector.Values.Capacity = count;
            vector.Statuses.Capacity = count;
            vector.EventTimestamps.Capacity = count;
            for (var r = 0; r < count; r++)
            {
                vector.Values.Add(column.Values[r] is null ? nullValue : ToProto(column.Values[r], type));
                vector.Statuses.Add(Status(column.Statuses[r]));
                Timestamp stamp;
                if (column.EventTimestamps[r] is not { } at) stamp = noTime;
                else if (r < rows && stamps[r] is { } held && stampAt[r] == at) stamp = held;
                else
                {
                    stamp = Timestamp.FromDateTimeOffset(at);
                    if (r < rows) (stamps[r], stampAt[r]) = (stamp, at);
                }
                vector.EventTimestamps.Add(stamp);
            }
            proto.Results.Add(vector);
        }
        return proto;
    }

    /// <summary>Feast's <c>FieldStatus</c> of a status.</summary>
    public static FieldStatus Status(FeatureStatus status) => status switch
    {
        FeatureStatus.Present => FieldStatus.Present,
        FeatureStatus.NullValue => FieldStatus.NullValue,
        FeatureStatus.NotFound => FieldStatus.NotFound,
        FeatureStatus.OutsideMaxAge => FieldStatus.OutsideMaxAge,
        _ => FieldStatus.Invalid,
    };

    private static GatewayRequestException Mismatch(Value value, ValueType type, string where)
    {
        var text = value.ToString();
        if (text.Length > 60) text = text[..57] + "...";
        return new($"{where} is {value.ValCase} {text}, but the column is declared {type}",
            $"send feast.types.Value with {FieldName(type)} set");
    }

    private static string FieldName(ValueType type) => type.Scalar switch
    {
        ScalarType.Int32 => "int32",
        ScalarType.Int64 => "int64",
        ScalarType.Float32 => "float",
        ScalarType.Float64 => "double",
        ScalarType.Bool => "bool",
        ScalarType.String => "string",
        ScalarType.Bytes => "bytes",
        _ => "unix_timestamp",
    } + (type.IsList ? "_list_val" : "_val");
}
