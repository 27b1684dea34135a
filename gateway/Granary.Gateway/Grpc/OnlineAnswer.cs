using System.Buffers.Binary;
using System.Collections;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Granary.Definitions;
using Granary.Serving;
using Value = Feast.Types.Value;
using ValueType = Granary.Definitions.ValueType;
using FeatureVector = Feast.Serving.GetOnlineFeaturesResponse.Types.FeatureVector;

namespace Granary.Gateway.Grpc;

/// <summary>
/// An online read's answer as gRPC's <c>GetOnlineFeatures</c> sends it: the domain answer, written as Feast's
/// <c>feast.serving.GetOnlineFeaturesResponse</c> bytes straight into one span, without building the 5,000 <c>Value</c>
/// and <c>Timestamp</c> objects a 100 x 50 answer costs through the generated message. The bytes are those the generated
/// code writes for <see cref="ProtoValues.ToProto(OnlineFeaturesResponse, IReadOnlyDictionary{string, ValueType})"/>:
/// fields in number order, proto3 packing, a set oneof member written even when it holds its default, an empty
/// <c>Value</c> for null, an empty <c>Timestamp</c> for no event time, <c>status</c> (false) omitted.
/// </summary>
/// <remarks>
/// The size is computed in the constructor, which also performs every value conversion: a value that does not fit its
/// declared type fails there, inside the call's handler (and its error interceptor), not later in the marshaller.
/// </remarks>
internal sealed class OnlineAnswer
{
    private static readonly uint MetadataTag = LengthTag(GetOnlineFeaturesResponse.MetadataFieldNumber);
    private static readonly uint ResultsTag = LengthTag(GetOnlineFeaturesResponse.ResultsFieldNumber);
    private static readonly uint FeatureNamesTag = LengthTag(GetOnlineFeaturesResponseMetadata.FeatureNamesFieldNumber);
    private static readonly uint NameTag = LengthTag(FeatureList.ValFieldNumber);
    private static readonly uint ValuesTag = LengthTag(FeatureVector.ValuesFieldNumber);
    private static readonly uint StatusesTag = LengthTag(FeatureVector.StatusesFieldNumber);
    private static readonly uint StampsTag = LengthTag(FeatureVector.EventTimestampsFieldNumber);
    private static readonly uint ServedFromCacheTag = LengthTag(FeatureVector.GranaryServedFromCacheFieldNumber);
    private static readonly uint SecondsTag = WireFormat.MakeTag(Timestamp.SecondsFieldNumber, WireFormat.WireType.Varint);
    private static readonly uint NanosTag = WireFormat.MakeTag(Timestamp.NanosFieldNumber, WireFormat.WireType.Varint);
    // Every Feast list message keeps its items in field 1 (packed for numbers and bools).
    private static readonly uint ItemsTag = LengthTag(Int32List.ValFieldNumber);
    private const long UnixEpochSeconds = 62_135_596_800; // DateTime.UnixEpoch.Ticks / TimeSpan.TicksPerSecond

    private readonly ValueType[] _types;
    private readonly int[] _vectorSizes;
    private readonly int _namesSize;
    private readonly int _metadataSize;
    private readonly IReadOnlyDictionary<string, ValueType> _typesByName;

    /// <summary>Sizes <paramref name="response"/>, each column's values in its type from <paramref name="types"/> (String when absent, as <see cref="ProtoValues"/> does).</summary>
    public OnlineAnswer(OnlineFeaturesResponse response, IReadOnlyDictionary<string, ValueType> types)
    {
        Response = response;
        _typesByName = types;
        foreach (var name in response.FeatureNames) _namesSize += 1 + Delimited(Encoding.UTF8.GetByteCount(name));
        _metadataSize = 1 + Delimited(_namesSize);
        var size = 1 + Delimited(_metadataSize);
        _types = new ValueType[response.Results.Count];
        _vectorSizes = new int[_types.Length];
        for (var c = 0; c < _types.Length; c++)
        {
            _types[c] = types.TryGetValue(response.FeatureNames[c], out var t) ? t : new ValueType(ScalarType.String);
            _vectorSizes[c] = VectorSize(response.Results[c], _types[c]);
            size += 1 + Delimited(_vectorSizes[c]);
        }
        Size = size;
    }

    /// <summary>The domain answer.</summary>
    public OnlineFeaturesResponse Response { get; }

    /// <summary>The exact size of the serialized message in bytes.</summary>
    public int Size { get; }

    /// <summary>The same answer as the generated message (for callers that want objects, and for tests).</summary>
    public GetOnlineFeaturesResponse ToMessage() => ProtoValues.ToProto(Response, _typesByName);

    /// <summary>Writes the message into <paramref name="destination"/>, which must be <see cref="Size"/> bytes long.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length != Size) throw new ArgumentException($"the destination holds {destination.Length} bytes; the message is {Size}", nameof(destination));
        var o = new Output(destination);
        o.Varint(MetadataTag);
        o.Varint((uint)_metadataSize);
        o.Varint(FeatureNamesTag);
        o.Varint((uint)_namesSize);
        foreach (var name in Response.FeatureNames)
        {
            o.Varint(NameTag);
            o.String(name);
        }
        for (var c = 0; c < _types.Length; c++)
        {
            o.Varint(ResultsTag);
            o.Varint((uint)_vectorSizes[c]);
            WriteVector(ref o, Response.Results[c], _types[c]);
        }
        if (o.Position != Size) throw new InvalidOperationException($"wrote {o.Position} bytes of a {Size}-byte GetOnlineFeaturesResponse");
    }

    private static int VectorSize(OnlineFeatureColumn column, ValueType type)
    {
        var count = column.Values.Length;
        var size = 0;
        for (var r = 0; r < count; r++)
        {
            size += 1 + Delimited(ValueSize(column.Values[r], type));
            size += 1 + Delimited(StampSize(column.EventTimestamps[r]));
        }
        if (count > 0)
        {
            var statuses = 0;
            for (var r = 0; r < count; r++) statuses += CodedOutputStream.ComputeEnumSize((int)ProtoValues.Status(column.Statuses[r]));
            size += 1 + Delimited(statuses);
        }
        // Packed bools, one byte each, only when some row was served from cache (as the generated code omits an empty list).
        if (column.ServedFromCache is not null) size += CodedOutputStream.ComputeUInt32Size(ServedFromCacheTag) + Delimited(count);
        return size;
    }

    private static void WriteVector(ref Output o, OnlineFeatureColumn column, ValueType type)
    {
        var count = column.Values.Length;
        for (var r = 0; r < count; r++)
        {
            o.Varint(ValuesTag);
            WriteValue(ref o, column.Values[r], type);
        }
        if (count > 0)
        {
            var statuses = 0;
            for (var r = 0; r < count; r++) statuses += CodedOutputStream.ComputeEnumSize((int)ProtoValues.Status(column.Statuses[r]));
            o.Varint(StatusesTag);
            o.Varint((uint)statuses);
            for (var r = 0; r < count; r++) o.Varint((ulong)(long)(int)ProtoValues.Status(column.Statuses[r]));
        }
        for (var r = 0; r < count; r++)
        {
            o.Varint(StampsTag);
            var at = column.EventTimestamps[r];
            o.Varint((uint)StampSize(at));
            if (at is not { } time) continue;
            var (seconds, nanos) = Stamp(time);
            if (seconds != 0) { o.Varint(SecondsTag); o.Varint((ulong)seconds); }
            if (nanos != 0) { o.Varint(NanosTag); o.Varint((ulong)(long)nanos); }
        }
        if (column.ServedFromCache is { } fromCache)
        {
            o.Varint(ServedFromCacheTag);
            o.Varint((uint)count);
            for (var r = 0; r < count; r++) o.Varint(fromCache[r] ? 1u : 0u);
        }
    }

    // Timestamp.FromDateTimeOffset's arithmetic: whole seconds since the epoch, the remainder's ticks as nanoseconds (never negative).
    private static (long Seconds, int Nanos) Stamp(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return (ticks / TimeSpan.TicksPerSecond - UnixEpochSeconds, (int)(ticks % TimeSpan.TicksPerSecond) * 100);
    }

    private static int StampSize(DateTimeOffset? at)
    {
        if (at is not { } time) return 0;
        var (seconds, nanos) = Stamp(time);
        return (seconds != 0 ? 1 + CodedOutputStream.ComputeInt64Size(seconds) : 0) + (nanos != 0 ? 1 + CodedOutputStream.ComputeInt32Size(nanos) : 0);
    }

    // The conversions of ProtoValues.ToProto: the stored type first, Convert for anything else.
    private static int Int32(object value) => value is int v ? v : Convert.ToInt32(value);
    private static long Int64(object value) => value is long v ? v : Convert.ToInt64(value);
    private static float Float32(object value) => value is float v ? v : Convert.ToSingle(value);
    private static double Float64(object value) => value is double v ? v : Convert.ToDouble(value);
    private static long UnixSeconds(object? value) => ((DateTimeOffset)value!).ToUnixTimeSeconds();

    private static int ValueSize(object? value, ValueType type)
    {
        if (value is null) return 0;
        if (type.IsList) return CodedOutputStream.ComputeTagSize(ListField(type.Scalar)) + Delimited(ListSize(value, type.Scalar));
        return type.Scalar switch
        {
            ScalarType.Int32 => 1 + CodedOutputStream.ComputeInt32Size(Int32(value)),
            ScalarType.Int64 => 1 + CodedOutputStream.ComputeInt64Size(Int64(value)),
            // Converted only to fail here, in the handler, when the value does not fit; the size is fixed.
            ScalarType.Float32 => Fixed(Float32(value), 1 + 4),
            ScalarType.Float64 => Fixed(Float64(value), 1 + 8),
            ScalarType.Bool => value is bool ? 1 + 1 : throw new InvalidCastException($"a Bool column holds {value.GetType().Name} {value}"),
            ScalarType.String => 1 + Delimited(Encoding.UTF8.GetByteCount((string)value)),
            ScalarType.Bytes => 1 + Delimited(((byte[])value).Length),
            _ => 1 + CodedOutputStream.ComputeInt64Size(UnixSeconds(value)),
        };
    }

    private static int Fixed<T>(T converted, int size) => size;

    private static void WriteValue(ref Output o, object? value, ValueType type)
    {
        o.Varint((uint)ValueSize(value, type));
        if (value is null) return;
        if (type.IsList)
        {
            o.Varint(LengthTag(ListField(type.Scalar)));
            o.Varint((uint)ListSize(value, type.Scalar));
            WriteList(ref o, value, type.Scalar);
            return;
        }
        switch (type.Scalar)
        {
            case ScalarType.Int32: o.Varint(VarintTag(Value.Int32ValFieldNumber)); o.Varint((ulong)(long)Int32(value)); break;
            case ScalarType.Int64: o.Varint(VarintTag(Value.Int64ValFieldNumber)); o.Varint((ulong)Int64(value)); break;
            case ScalarType.Float32: o.Varint(WireFormat.MakeTag(Value.FloatValFieldNumber, WireFormat.WireType.Fixed32)); o.Fixed32(BitConverter.SingleToUInt32Bits(Float32(value))); break;
            case ScalarType.Float64: o.Varint(WireFormat.MakeTag(Value.DoubleValFieldNumber, WireFormat.WireType.Fixed64)); o.Fixed64(BitConverter.DoubleToUInt64Bits(Float64(value))); break;
            case ScalarType.Bool: o.Varint(VarintTag(Value.BoolValFieldNumber)); o.Varint((bool)value ? 1UL : 0UL); break;
            case ScalarType.String: o.Varint(LengthTag(Value.StringValFieldNumber)); o.String((string)value); break;
            case ScalarType.Bytes: o.Varint(LengthTag(Value.BytesValFieldNumber)); o.Bytes((byte[])value); break;
            default: o.Varint(VarintTag(Value.UnixTimestampValFieldNumber)); o.Varint((ulong)UnixSeconds(value)); break;
        }
    }

    private static int ListField(ScalarType scalar) => scalar switch
    {
        ScalarType.Int32 => Value.Int32ListValFieldNumber,
        ScalarType.Int64 => Value.Int64ListValFieldNumber,
        ScalarType.Float32 => Value.FloatListValFieldNumber,
        ScalarType.Float64 => Value.DoubleListValFieldNumber,
        ScalarType.Bool => Value.BoolListValFieldNumber,
        ScalarType.String => Value.StringListValFieldNumber,
        ScalarType.Bytes => Value.BytesListValFieldNumber,
        _ => Value.UnixTimestampListValFieldNumber,
    };

    // The list message's content: one packed field 1 for numbers and bools (absent when empty), one field 1 per string or bytes item.
    private static int ListSize(object value, ScalarType scalar)
    {
        switch (scalar)
        {
            case ScalarType.String:
                var strings = 0;
                foreach (var s in Strings(value)) strings += 1 + Delimited(Encoding.UTF8.GetByteCount(s));
                return strings;
            case ScalarType.Bytes:
                var bytes = 0;
                foreach (var b in ByteArrays(value)) bytes += 1 + Delimited(b.Length);
                return bytes;
            default:
                var packed = PackedSize(value, scalar);
                return packed == 0 ? 0 : 1 + Delimited(packed);
        }
    }

    // The payload of a packed list: the items' bytes without tag or length.
    private static int PackedSize(object value, ScalarType scalar)
    {
        var size = 0;
        switch (scalar)
        {
            case ScalarType.Int32: foreach (var v in Int32s(value)) size += CodedOutputStream.ComputeInt32Size(v); break;
            case ScalarType.Int64: foreach (var v in Int64s(value)) size += CodedOutputStream.ComputeInt64Size(v); break;
            case ScalarType.Float32: size = 4 * Float32s(value).Length; break;
            case ScalarType.Float64: size = 8 * Float64s(value).Length; break;
            case ScalarType.Bool: size = Bools(value).Length; break;
            default: foreach (var v in Stamps(value)) size += CodedOutputStream.ComputeInt64Size(v); break;
        }
        return size;
    }

    private static void WriteList(ref Output o, object value, ScalarType scalar)
    {
        switch (scalar)
        {
            case ScalarType.String:
                foreach (var s in Strings(value)) { o.Varint(ItemsTag); o.String(s); }
                return;
            case ScalarType.Bytes:
                foreach (var b in ByteArrays(value)) { o.Varint(ItemsTag); o.Bytes(b); }
                return;
        }
        var packed = PackedSize(value, scalar);
        if (packed == 0) return;
        o.Varint(ItemsTag);
        o.Varint((uint)packed);
        switch (scalar)
        {
            case ScalarType.Int32: foreach (var v in Int32s(value)) o.Varint((ulong)(long)v); break;
            case ScalarType.Int64: foreach (var v in Int64s(value)) o.Varint((ulong)v); break;
            case ScalarType.Float32: foreach (var v in Float32s(value)) o.Fixed32(BitConverter.SingleToUInt32Bits(v)); break;
            case ScalarType.Float64: foreach (var v in Float64s(value)) o.Fixed64(BitConverter.DoubleToUInt64Bits(v)); break;
            case ScalarType.Bool: foreach (var v in Bools(value)) o.Varint(v ? 1UL : 0UL); break;
            default: foreach (var v in Stamps(value)) o.Varint((ulong)v); break;
        }
    }

    // Stored lists are arrays of the declared type; anything else is converted item by item, as ProtoValues does.
    private static int[] Int32s(object value) => value as int[] ?? Each(value, v => Convert.ToInt32(v));
    private static long[] Int64s(object value) => value as long[] ?? Each(value, v => Convert.ToInt64(v));
    private static float[] Float32s(object value) => value as float[] ?? Each(value, v => Convert.ToSingle(v));
    private static double[] Float64s(object value) => value as double[] ?? Each(value, v => Convert.ToDouble(v));
    private static bool[] Bools(object value) => value as bool[] ?? Each(value, v => (bool)v!);
    // A null item cannot be held by the generated lists; it is written as an empty string / empty bytes.
    private static string[] Strings(object value) => value as string[] ?? Each(value, v => (string?)v ?? "");
    private static byte[][] ByteArrays(object value) => value as byte[][] ?? Each(value, v => (byte[]?)v ?? []);
    private static long[] Stamps(object value) => value is DateTimeOffset[] stamps ? Array.ConvertAll(stamps, s => s.ToUnixTimeSeconds()) : Each(value, UnixSeconds);

    private static T[] Each<T>(object value, Func<object?, T> convert)
    {
        var items = new List<T>();
        foreach (var v in (IEnumerable)value) items.Add(convert(v));
        return [.. items];
    }

    private static uint LengthTag(int field) => WireFormat.MakeTag(field, WireFormat.WireType.LengthDelimited);
    private static uint VarintTag(int field) => WireFormat.MakeTag(field, WireFormat.WireType.Varint);
    private static int Delimited(int size) => CodedOutputStream.ComputeLengthSize(size) + size;

    /// <summary>A cursor over the destination span.</summary>
    private ref struct Output(Span<byte> span)
    {
        private readonly Span<byte> _span = span;

        public int Position { get; private set; }

        public void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _span[Position++] = (byte)(value | 0x80);
                value >>= 7;
            }
            _span[Position++] = (byte)value;
        }

        public void Fixed32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_span[Position..], value);
            Position += 4;
        }

        public void Fixed64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_span[Position..], value);
            Position += 8;
        }

        public void String(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            Varint((uint)length);
            Position += Encoding.UTF8.GetBytes(value, _span.Slice(Position, length));
        }

        public void Bytes(byte[] value)
        {
            Varint((uint)value.Length);
            value.CopyTo(_span[Position..]);
            Position += value.Length;
        }
    }
}
