using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Granary.Runtime.Serialization;

/// <summary>
/// Writes grain call arguments and results in Granary's compact binary form (little-endian; length-prefixed strings
/// and collections, -1 for null). Generated code calls it; other types go through <see cref="WriteJson{T}"/>.
/// </summary>
public readonly struct GrainWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> _output = output;

    /// <summary>Writes one byte.</summary>
    public void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }

    /// <summary>Writes a boolean as one byte.</summary>
    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);
    /// <summary>Writes a signed byte.</summary>
    public void WriteSByte(sbyte value) => WriteByte(unchecked((byte)value));
    /// <summary>Writes a 16-bit integer.</summary>
    public void WriteInt16(short value) { BinaryPrimitives.WriteInt16LittleEndian(_output.GetSpan(2), value); _output.Advance(2); }
    /// <summary>Writes an unsigned 16-bit integer.</summary>
    public void WriteUInt16(ushort value) { BinaryPrimitives.WriteUInt16LittleEndian(_output.GetSpan(2), value); _output.Advance(2); }
    /// <summary>Writes a character as its UTF-16 code unit.</summary>
    public void WriteChar(char value) => WriteUInt16(value);
    /// <summary>Writes a 32-bit integer.</summary>
    public void WriteInt32(int value) { BinaryPrimitives.WriteInt32LittleEndian(_output.GetSpan(4), value); _output.Advance(4); }
    /// <summary>Writes an unsigned 32-bit integer.</summary>
    public void WriteUInt32(uint value) { BinaryPrimitives.WriteUInt32LittleEndian(_output.GetSpan(4), value); _output.Advance(4); }
    /// <summary>Writes a 64-bit integer.</summary>
    public void WriteInt64(long value) { BinaryPrimitives.WriteInt64LittleEndian(_output.GetSpan(8), value); _output.Advance(8); }
    /// <summary>Writes an unsigned 64-bit integer.</summary>
    public void WriteUInt64(ulong value) { BinaryPrimitives.WriteUInt64LittleEndian(_output.GetSpan(8), value); _output.Advance(8); }
    /// <summary>Writes a 32-bit float.</summary>
    public void WriteSingle(float value) { BinaryPrimitives.WriteSingleLittleEndian(_output.GetSpan(4), value); _output.Advance(4); }
    /// <summary>Writes a 64-bit float.</summary>
    public void WriteDouble(double value) { BinaryPrimitives.WriteDoubleLittleEndian(_output.GetSpan(8), value); _output.Advance(8); }

    /// <summary>Writes a decimal as its four 32-bit parts.</summary>
    public void WriteDecimal(decimal value)
    {
        Span<int> parts = stackalloc int[4];
        decimal.GetBits(value, parts);
        foreach (var part in parts) WriteInt32(part);
    }

    /// <summary>Writes a GUID as 16 bytes.</summary>
    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(_output.GetSpan(16));
        _output.Advance(16);
    }

    /// <summary>Writes a <see cref="DateTime"/> (ticks and kind).</summary>
    public void WriteDateTime(DateTime value) => WriteInt64(value.ToBinary());

    /// <summary>Writes a <see cref="DateTimeOffset"/> (UTC ticks and offset minutes).</summary>
    public void WriteDateTimeOffset(DateTimeOffset value)
    {
        WriteInt64(value.UtcTicks);
        WriteInt16((short)value.Offset.TotalMinutes);
    }

    /// <summary>Writes a <see cref="TimeSpan"/> as ticks.</summary>
    public void WriteTimeSpan(TimeSpan value) => WriteInt64(value.Ticks);

    /// <summary>Writes a UTF-8 string with a byte-length prefix (-1 for null).</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }
        var length = Encoding.UTF8.GetByteCount(value);
        WriteInt32(length);
        var written = Encoding.UTF8.GetBytes(value, _output.GetSpan(length));
        _output.Advance(written);
    }

    /// <summary>Writes a byte array with a length prefix (-1 for null).</summary>
    public void WriteBytes(byte[]? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }
        WriteBytes(value.AsSpan());
    }

    /// <summary>Writes bytes with a length prefix.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(_output.GetSpan(value.Length));
        _output.Advance(value.Length);
    }

    /// <summary>Writes a grain reference as its grain id (a marker byte 0 for null).</summary>
    public void WriteGrainReference(IGrain? reference)
    {
        if (reference is null)
        {
            WriteByte(0);
            return;
        }
        if (reference is not Invocation.GrainReference grainReference)
            throw new GrainSerializationException(
                $"An argument of type {reference.GetType().FullName} is a grain instance, not a grain reference; pass GrainFactory.GetGrain<T>(key) instead of 'this'.");
        WriteByte(1);
        WriteString(grainReference.GrainId.Type);
        WriteString(grainReference.GrainId.Key);
    }

    /// <summary>Writes any other type as length-prefixed JSON, with a cached <see cref="System.Text.Json.Serialization.Metadata.JsonTypeInfo"/>.</summary>
    public void WriteJson<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(json, value, GrainJson.TypeInfo<T>());
        }
        WriteBytes(buffer.WrittenSpan);
    }
}
