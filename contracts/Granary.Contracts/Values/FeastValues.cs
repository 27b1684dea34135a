using Feast.Types;
using Google.Protobuf;
using Granary.Definitions;
using FeastType = Feast.Types.ValueType.Types.Enum;
using Value = Feast.Types.Value;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Contracts;

/// <summary>
/// The one mapping between Feast's <c>feast.types.Value</c> and .NET values, and between Feast's value type names and
/// Granary's <see cref="ValueType"/>; the gateway, the client SDK and the CLI all convert through it.
/// </summary>
/// <remarks>
/// .NET forms: Int32 <see cref="int"/>, Int64 <see cref="long"/>, Float32 <see cref="float"/>, Float64 <see cref="double"/>,
/// Bool <see cref="bool"/>, String <see cref="string"/>, Bytes <c>byte[]</c>, UnixTimestamp <see cref="DateTimeOffset"/>
/// (whole seconds on the wire, as Feast); lists are arrays of those.
/// </remarks>
public static class FeastValues
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
        // The stored type first (no IConvertible dispatch on the hot path); Convert for anything else.
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

    /// <summary>
    /// <paramref name="value"/> read as <paramref name="type"/>: the member of the declared type, or a lossless alternative
    /// Feast's clients send (int64 for an Int32 within range, int32 for Int64, double for Float32, float for Float64).
    /// False when the member fits neither; an unset Value and null_val are null.
    /// </summary>
    public static bool TryFromProto(Value value, ValueType type, out object? result)
    {
        var c = value.ValCase;
        if (c is Value.ValOneofCase.None or Value.ValOneofCase.NullVal)
        {
            result = null;
            return true;
        }
        if (type.IsList)
        {
            result = (type.Scalar, c) switch
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
                (ScalarType.UnixTimestamp, Value.ValOneofCase.UnixTimestampListVal) => value.UnixTimestampListVal.Val.Select(DateTimeOffset.FromUnixTimeSeconds).ToArray(),
                _ => null,
            };
            return result is not null;
        }
        result = (type.Scalar, c) switch
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
            (ScalarType.UnixTimestamp, Value.ValOneofCase.UnixTimestampVal) => DateTimeOffset.FromUnixTimeSeconds(value.UnixTimestampVal),
            _ => null,
        };
        return result is not null;
    }

    /// <summary><paramref name="value"/> in the .NET form of the member it carries, when no declared type is at hand; unset and null_val are null.</summary>
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

    /// <summary>
    /// The proto form of a .NET value by its own type (the member of its .NET form; <see cref="DateTime"/> of unspecified
    /// kind is UTC); null is null_val. False for a type with no Feast member.
    /// </summary>
    public static bool TryFromClr(object? value, out Value proto)
    {
        proto = value switch
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
            IEnumerable<byte[]> v => new Value { BytesListVal = new BytesList { Val = { v.Select(ByteString.CopyFrom) } } },
            IEnumerable<DateTimeOffset> v => new Value { UnixTimestampListVal = new Int64List { Val = { v.Select(t => t.ToUnixTimeSeconds()) } } },
            _ => null!,
        };
        return proto is not null;
    }

    /// <summary>Feast's <c>ValueType.Enum</c> of a declared type.</summary>
    public static FeastType TypeEnum(ValueType type) => (type.Scalar, type.IsList) switch
    {
        (ScalarType.Int32, false) => FeastType.Int32,
        (ScalarType.Int64, false) => FeastType.Int64,
        (ScalarType.Float32, false) => FeastType.Float,
        (ScalarType.Float64, false) => FeastType.Double,
        (ScalarType.Bool, false) => FeastType.Bool,
        (ScalarType.String, false) => FeastType.String,
        (ScalarType.Bytes, false) => FeastType.Bytes,
        (ScalarType.UnixTimestamp, false) => FeastType.UnixTimestamp,
        (ScalarType.Int32, true) => FeastType.Int32List,
        (ScalarType.Int64, true) => FeastType.Int64List,
        (ScalarType.Float32, true) => FeastType.FloatList,
        (ScalarType.Float64, true) => FeastType.DoubleList,
        (ScalarType.Bool, true) => FeastType.BoolList,
        (ScalarType.String, true) => FeastType.StringList,
        (ScalarType.Bytes, true) => FeastType.BytesList,
        _ => FeastType.UnixTimestampList,
    };

    /// <summary>Granary's type of Feast's <c>ValueType.Enum</c>; false for the ones Granary has no type for (e.g. <c>UNKNOWN</c>, sets, maps).</summary>
    public static bool TryFromTypeEnum(FeastType feast, out ValueType type)
    {
        ValueType? found = feast switch
        {
            FeastType.Int32 => new ValueType(ScalarType.Int32),
            FeastType.Int64 => new ValueType(ScalarType.Int64),
            FeastType.Float => new ValueType(ScalarType.Float32),
            FeastType.Double => new ValueType(ScalarType.Float64),
            FeastType.Bool => new ValueType(ScalarType.Bool),
            FeastType.String => new ValueType(ScalarType.String),
            FeastType.Bytes => new ValueType(ScalarType.Bytes),
            FeastType.UnixTimestamp => new ValueType(ScalarType.UnixTimestamp),
            FeastType.Int32List => new ValueType(ScalarType.Int32, true),
            FeastType.Int64List => new ValueType(ScalarType.Int64, true),
            FeastType.FloatList => new ValueType(ScalarType.Float32, true),
            FeastType.DoubleList => new ValueType(ScalarType.Float64, true),
            FeastType.BoolList => new ValueType(ScalarType.Bool, true),
            FeastType.StringList => new ValueType(ScalarType.String, true),
            FeastType.BytesList => new ValueType(ScalarType.Bytes, true),
            FeastType.UnixTimestampList => new ValueType(ScalarType.UnixTimestamp, true),
            _ => null,
        };
        type = found.GetValueOrDefault();
        return found is not null;
    }

    /// <summary>
    /// Granary's type of a Feast value type name as the gRPC enum prints it (<c>Int64</c>, <c>FloatList</c>) or as Feast's
    /// proto spells it (<c>INT64</c>, <c>FLOAT_LIST</c>); false when unknown.
    /// </summary>
    public static bool TryParseTypeName(string? name, out ValueType type)
    {
        type = default;
        if (string.IsNullOrWhiteSpace(name)) return false;
        var pascal = name.Contains('_') || name.All(ch => !char.IsLower(ch))
            ? string.Concat(name.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()))
            : name;
        return Enum.TryParse<FeastType>(pascal, ignoreCase: false, out var feast) && Enum.IsDefined(feast) && TryFromTypeEnum(feast, out type);
    }

    /// <summary>The proto member a value of <paramref name="type"/> is sent in, e.g. <c>int64_val</c>, for error messages.</summary>
    public static string FieldName(ValueType type) => type.Scalar switch
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
