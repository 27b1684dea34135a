using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Granary.Definitions;

namespace Granary.Online;

/// <summary>
/// The compact binary form of an online row's timestamps and values, shared by every online store.
/// </summary>
/// <remarks>
/// Layout (version 1, little-endian): <c>u8 version=1</c>; <c>i64 event_us</c>; <c>u8 has_created</c> [<c>i64 created_us</c>];
/// <c>varint feature_count</c>; per feature: <c>varint name_len, utf8 name, u8 tag, value</c>. The tag is 0 for null,
/// otherwise <c>1 + (int)ScalarType</c>, with bit 0x80 set for a list. Values: Int32 <c>i32</c>, Int64 <c>i64</c>, Float32
/// and Float64 their IEEE bits (NaN payloads and -0 kept), Bool <c>u8</c>, String and Bytes <c>varint len + bytes</c>,
/// UnixTimestamp <c>i64</c> UTC microseconds; a list is <c>varint count</c> then its elements. Timestamps are UTC
/// microseconds since the Unix epoch. A missing feature is simply absent, so null and missing stay distinct.
/// </remarks>
public static class OnlineRowCodec
{
    /// <summary>The format version this code writes (the first byte).</summary>
    public const byte Version = 1;

    private const byte ListBit = 0x80;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes the row's timestamps and values (not its entity key and view name, which the store keys on).</summary>
    /// <exception cref="OnlineRowSchemaException">A value has a type the online tier does not store, or a string is not valid UTF-16.</exception>
    public static byte[] Encode(OnlineRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var w = new ArrayBufferWriter<byte>(64 + 24 * row.Values.Count);
        WriteByte(w, Version);
        WriteInt64(w, OnlineTime.ToMicros(row.EventTimestamp));
        WriteByte(w, row.CreatedTimestamp is null ? (byte)0 : (byte)1);
        if (row.CreatedTimestamp is { } created) WriteInt64(w, OnlineTime.ToMicros(created));
        WriteVarint(w, (ulong)row.Values.Count);
        foreach (var (name, value) in row.Values)
        {
            WriteString(w, name, row, name);
            if (value is null) { WriteByte(w, 0); continue; }
            if (!OnlineValueTypes.TryGetValueType(value, out var type))
                throw new OnlineRowSchemaException(
                    $"feature '{row.FeatureView}:{name}' of entity '{row.Entity}' has {OnlineValueTypes.Describe(value)}, which the online store cannot hold",
                    "use int, long, float, double, string, bool, byte[], DateTimeOffset or an array of one of them");
            WriteByte(w, (byte)((1 + (int)type.Scalar) | (type.IsList ? ListBit : 0)));
            if (!type.IsList) { WriteScalar(w, type.Scalar, value, row, name); continue; }
            var list = (Array)value;
            WriteVarint(w, (ulong)list.Length);
            foreach (var item in list) WriteScalar(w, type.Scalar, item!, row, name);
        }
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Decodes bytes written by <see cref="Encode"/> back into a row for <paramref name="entity"/> and <paramref name="featureView"/>.</summary>
    /// <exception cref="FormatException">The bytes are not a row of a known format version (corrupt or written by a newer Granary).</exception>
    public static OnlineRow Decode(EntityKey entity, string featureView, ReadOnlySpan<byte> data)
    {
        var r = new Reader(data, entity, featureView);
        var version = r.Byte();
        if (version != Version)
            throw new FormatException($"online row of '{entity}' view '{featureView}' has format version {version}; this Granary reads version {Version}");
        var eventTs = OnlineTime.FromMicros(r.Int64());
        DateTimeOffset? created = r.Byte() != 0 ? OnlineTime.FromMicros(r.Int64()) : null;
        var count = checked((int)r.Varint());
        var values = new Dictionary<string, object?>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = r.String();
            var tag = r.Byte();
            if (tag == 0) { values[name] = null; continue; }
            var scalar = (ScalarType)((tag & ~ListBit) - 1);
            if (!Enum.IsDefined(scalar)) throw r.Corrupt($"unknown type tag {tag}");
            values[name] = (tag & ListBit) == 0 ? r.Scalar(scalar) : r.List(scalar);
        }
        if (!r.AtEnd) throw r.Corrupt("trailing bytes");
        return new OnlineRow(entity, featureView, eventTs, created, values);
    }

    private static void WriteScalar(ArrayBufferWriter<byte> w, ScalarType scalar, object value, OnlineRow row, string name)
    {
        switch (scalar)
        {
            case ScalarType.Int32: BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), (int)value); w.Advance(4); break;
            case ScalarType.Int64: WriteInt64(w, (long)value); break;
            case ScalarType.Float32: BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), BitConverter.SingleToInt32Bits((float)value)); w.Advance(4); break;
            case ScalarType.Float64: WriteInt64(w, BitConverter.DoubleToInt64Bits((double)value)); break;
            case ScalarType.String: WriteString(w, (string)value, row, name); break;
            case ScalarType.Bool: WriteByte(w, (bool)value ? (byte)1 : (byte)0); break;
            case ScalarType.Bytes:
                var bytes = (byte[])value;
                WriteVarint(w, (ulong)bytes.Length);
                w.Write(bytes);
                break;
            case ScalarType.UnixTimestamp: WriteInt64(w, OnlineTime.ToMicros((DateTimeOffset)value)); break;
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> w, string s, OnlineRow row, string feature)
    {
        int length;
        try { length = StrictUtf8.GetByteCount(s); }
        catch (EncoderFallbackException e)
        {
            throw new OnlineRowSchemaException(
                $"feature '{row.FeatureView}:{feature}' of entity '{row.Entity}' has text that is not valid Unicode ({e.Message})",
                "strings must be valid UTF-16 (no lone surrogates)");
        }
        WriteVarint(w, (ulong)length);
        StrictUtf8.GetBytes(s, w.GetSpan(length));
        w.Advance(length);
    }

    private static void WriteByte(ArrayBufferWriter<byte> w, byte b) { w.GetSpan(1)[0] = b; w.Advance(1); }

    private static void WriteInt64(ArrayBufferWriter<byte> w, long v) { BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), v); w.Advance(8); }

    private static void WriteVarint(ArrayBufferWriter<byte> w, ulong v)
    {
        var span = w.GetSpan(10);
        var n = 0;
        while (v >= 0x80) { span[n++] = (byte)(v | 0x80); v >>= 7; }
        span[n++] = (byte)v;
        w.Advance(n);
    }

    private ref struct Reader(ReadOnlySpan<byte> data, EntityKey entity, string featureView)
    {
        private ReadOnlySpan<byte> _data = data;
        private readonly EntityKey _entity = entity;
        private readonly string _view = featureView;

        public readonly bool AtEnd => _data.IsEmpty;

        public readonly FormatException Corrupt(string what)
            => new($"online row of '{_entity}' view '{_view}' is corrupt: {what}");

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || n > _data.Length) throw Corrupt("truncated");
            var s = _data[..n];
            _data = _data[n..];
            return s;
        }

        public byte Byte() => Take(1)[0];
        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public ulong Varint()
        {
            ulong v = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte();
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw Corrupt("varint too long");
        }

        public string String() => StrictUtf8.GetString(Take(checked((int)Varint())));

        public object Scalar(ScalarType scalar) => scalar switch
        {
            ScalarType.Int32 => Int32(),
            ScalarType.Int64 => Int64(),
            ScalarType.Float32 => BitConverter.Int32BitsToSingle(Int32()),
            ScalarType.Float64 => BitConverter.Int64BitsToDouble(Int64()),
            ScalarType.String => String(),
            ScalarType.Bool => Byte() != 0,
            ScalarType.Bytes => Take(checked((int)Varint())).ToArray(),
            ScalarType.UnixTimestamp => OnlineTime.FromMicros(Int64()),
            _ => throw Corrupt($"unknown scalar {scalar}"),
        };

        public Array List(ScalarType scalar)
        {
            var count = checked((int)Varint());
            if (count > _data.Length) throw Corrupt("list longer than the data");
            switch (scalar)
            {
                case ScalarType.Int32: { var a = new int[count]; for (var i = 0; i < count; i++) a[i] = Int32(); return a; }
                case ScalarType.Int64: { var a = new long[count]; for (var i = 0; i < count; i++) a[i] = Int64(); return a; }
                case ScalarType.Float32: { var a = new float[count]; for (var i = 0; i < count; i++) a[i] = BitConverter.Int32BitsToSingle(Int32()); return a; }
                case ScalarType.Float64: { var a = new double[count]; for (var i = 0; i < count; i++) a[i] = BitConverter.Int64BitsToDouble(Int64()); return a; }
                case ScalarType.String: { var a = new string[count]; for (var i = 0; i < count; i++) a[i] = String(); return a; }
                case ScalarType.Bool: { var a = new bool[count]; for (var i = 0; i < count; i++) a[i] = Byte() != 0; return a; }
                case ScalarType.Bytes: { var a = new byte[count][]; for (var i = 0; i < count; i++) a[i] = Take(checked((int)Varint())).ToArray(); return a; }
                case ScalarType.UnixTimestamp: { var a = new DateTimeOffset[count]; for (var i = 0; i < count; i++) a[i] = OnlineTime.FromMicros(Int64()); return a; }
                default: throw Corrupt($"unknown scalar {scalar}");
            }
        }
    }
}
