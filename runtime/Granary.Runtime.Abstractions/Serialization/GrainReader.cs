using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Granary.Runtime.Serialization;

/// <summary>Reads what <see cref="GrainWriter"/> wrote. Throws <see cref="GrainSerializationException"/> on truncated input.</summary>
public ref struct GrainReader(ReadOnlySpan<byte> input)
{
    private readonly ReadOnlySpan<byte> _input = input;
    private int _position;

    /// <summary>The runtime that references read from this message will call through (set by the receiving transport).</summary>
    public Invocation.IGrainCallInvoker? Invoker { get; set; }

    /// <summary>How many bytes have been consumed.</summary>
    public readonly int Position => _position;

    /// <summary>How many bytes are left.</summary>
    public readonly int Remaining => _input.Length - _position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _input.Length - _position)
            throw new GrainSerializationException($"Truncated grain message: needed {count} bytes at offset {_position}, {_input.Length - _position} left.");
        var span = _input.Slice(_position, count);
        _position += count;
        return span;
    }

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];
    /// <summary>Reads a boolean.</summary>
    public bool ReadBoolean() => ReadByte() != 0;
    /// <summary>Reads a signed byte.</summary>
    public sbyte ReadSByte() => unchecked((sbyte)ReadByte());
    /// <summary>Reads a 16-bit integer.</summary>
    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));
    /// <summary>Reads an unsigned 16-bit integer.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    /// <summary>Reads a character.</summary>
    public char ReadChar() => (char)ReadUInt16();
    /// <summary>Reads a 32-bit integer.</summary>
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    /// <summary>Reads an unsigned 32-bit integer.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    /// <summary>Reads a 64-bit integer.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    /// <summary>Reads an unsigned 64-bit integer.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    /// <summary>Reads a 32-bit float.</summary>
    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    /// <summary>Reads a 64-bit float.</summary>
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>Reads a decimal.</summary>
    public decimal ReadDecimal()
    {
        Span<int> parts = stackalloc int[4];
        for (var i = 0; i < 4; i++) parts[i] = ReadInt32();
        return new decimal(parts);
    }

    /// <summary>Reads a GUID.</summary>
    public Guid ReadGuid() => new(Take(16));
    /// <summary>Reads a <see cref="DateTime"/>.</summary>
    public DateTime ReadDateTime() => DateTime.FromBinary(ReadInt64());

    /// <summary>Reads a <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset ReadDateTimeOffset()
    {
        var utcTicks = ReadInt64();
        var offset = TimeSpan.FromMinutes(ReadInt16());
        return new DateTimeOffset(utcTicks + offset.Ticks, offset);
    }

    /// <summary>Reads a <see cref="TimeSpan"/>.</summary>
    public TimeSpan ReadTimeSpan() => TimeSpan.FromTicks(ReadInt64());

    /// <summary>Reads a string (null when the prefix is -1).</summary>
    public string? ReadString()
    {
        var length = ReadInt32();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>Reads a byte array (null when the prefix is -1).</summary>
    public byte[]? ReadBytes()
    {
        var length = ReadInt32();
        return length < 0 ? null : Take(length).ToArray();
    }

    /// <summary>Reads a collection length written before a collection (-1 for null).</summary>
    public int ReadCount()
    {
        var count = ReadInt32();
        if (count > Remaining)
            throw new GrainSerializationException($"Grain message claims {count} elements but only {Remaining} bytes are left.");
        return count;
    }

    /// <summary>Reads a grain reference written by <see cref="GrainWriter.WriteGrainReference"/>; needs <see cref="Invoker"/>.</summary>
    public TGrain? ReadGrainReference<TGrain>() where TGrain : class, IGrain
    {
        if (ReadByte() == 0) return null;
        var grainId = new GrainId(ReadString() ?? string.Empty, ReadString() ?? string.Empty);
        var invoker = Invoker ?? throw new GrainSerializationException(
            $"A {typeof(TGrain).Name} reference to {grainId} arrived but GrainReader.Invoker is not set; the receiving transport must set it to the silo's IGrainCallInvoker.");
        var descriptor = Invocation.GrainInterfaceRegistry.Find(typeof(TGrain))
            ?? throw new GrainSerializationException($"No generated proxy for {typeof(TGrain).FullName} in this process.");
        return (TGrain)(object)descriptor.CreateProxy(invoker, grainId);
    }

    /// <summary>Reads a value written by <see cref="GrainWriter.WriteJson{T}"/>.</summary>
    public T ReadJson<T>()
    {
        var length = ReadInt32();
        return JsonSerializer.Deserialize(Take(length), GrainJson.TypeInfo<T>())!;
    }
}
