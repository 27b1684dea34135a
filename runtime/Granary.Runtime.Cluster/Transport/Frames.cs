using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>What a frame carries.</summary>
public enum MessageKind : byte
{
    /// <summary>A grain call expecting a response with the same correlation id.</summary>
    Request = 1,
    /// <summary>A grain call without response.</summary>
    OneWayRequest = 2,
    /// <summary>The answer to a request or ping.</summary>
    Response = 3,
    /// <summary>A liveness probe; answered by a response.</summary>
    Ping = 4,
    /// <summary>Gossip: the sender changed the membership table; re-read it.</summary>
    MembershipChanged = 5,
    /// <summary>The first frame on a connection: cluster id and the silo the caller expects to reach.</summary>
    Hello = 6,
}

/// <summary>How a response ended.</summary>
public enum ResultKind : byte
{
    /// <summary>The body is the runtime's serialized response: a status byte, then the result or the exception's type and message.</summary>
    Success = 0,
    /// <summary>The receiver did not run the call (stopping, or the owner is unreachable); the body is the reason. Safe to route again.</summary>
    Rejection = 2,
}

/// <summary>Per-call flags carried in the header.</summary>
[Flags]
public enum MessageFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>The method is read-only.</summary>
    ReadOnly = 1,
    /// <summary>The method may always interleave.</summary>
    AlwaysInterleave = 2,
    /// <summary>The receiver must run the call itself (it was already forwarded to its owner).</summary>
    NoForward = 4,
}

/// <summary>Writes a message body into a frame without intermediate copies.</summary>
public interface IFrameBody
{
    /// <summary>Appends the body's bytes.</summary>
    void WriteTo(IBufferWriter<byte> writer);
}

/// <summary>A body that is already a byte array (or empty).</summary>
public readonly struct BytesBody(ReadOnlyMemory<byte> bytes) : IFrameBody
{
    /// <summary>The empty body.</summary>
    public static BytesBody Empty => default;

    /// <inheritdoc/>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        if (!bytes.IsEmpty) writer.Write(bytes.Span);
    }
}

/// <summary>The fixed and variable fields of a frame header.</summary>
public struct MessageHeader
{
    /// <summary>What the frame carries.</summary>
    public MessageKind Kind;
    /// <summary>Per-call flags.</summary>
    public MessageFlags Flags;
    /// <summary>Outcome of a response.</summary>
    public ResultKind Result;
    /// <summary>How many silos have already forwarded this request.</summary>
    public byte ForwardCount;
    /// <summary>Matches a response to its request on the connection.</summary>
    public long CorrelationId;
    /// <summary>Unix time in milliseconds after which the message is dropped; 0 = never.</summary>
    public long ExpiresAtUnixMs;
    /// <summary>The generated id of the target grain interface.</summary>
    public int InterfaceId;
    /// <summary>The generated method id within the target interface.</summary>
    public int MethodId;
    /// <summary>The target grain (requests only).</summary>
    public GrainId Target;
}

/// <summary>A frame as received: header plus an owned copy of the body.</summary>
public sealed class Message
{
    /// <summary>The parsed header.</summary>
    public MessageHeader Header;
    /// <summary>The body bytes.</summary>
    public ReadOnlyMemory<byte> Body;

    /// <summary>Whether the message's expiry has passed at <paramref name="nowUnixMs"/>.</summary>
    public bool IsExpired(long nowUnixMs) => Header.ExpiresAtUnixMs != 0 && Header.ExpiresAtUnixMs < nowUnixMs;
}

/// <summary>
/// The frame format, little-endian: int32 length of the rest; byte kind; byte flags; byte result; byte forward count;
/// int64 correlation id; int64 expiry (unix ms, 0 = none); int32 interface id; int32 method id; int32 length V of the
/// variable header; V bytes = string grain type, string grain key (requests only); then the body.
/// Strings are an int32 UTF-8 byte count followed by the bytes.
/// </summary>
public static class FrameCodec
{
    /// <summary>Size of the fixed part after the length prefix.</summary>
    public const int FixedHeaderSize = 32;
    /// <summary>Largest frame accepted (100 MiB, Orleans' body limit); larger ones close the connection.</summary>
    public const int MaxFrameSize = 100 * 1024 * 1024;

    /// <summary>Appends one complete frame (length prefix, header, body) to <paramref name="writer"/>.</summary>
    public static void Write<TBody>(FrameBuffer writer, in MessageHeader header, TBody body) where TBody : IFrameBody
    {
        var start = writer.WrittenCount;
        // Reserve the length prefix and fixed header; they are filled once the sizes are known.
        writer.GetSpan(4 + FixedHeaderSize);
        writer.Advance(4 + FixedHeaderSize);
        var variableStart = writer.WrittenCount;
        if (header.Kind is MessageKind.Request or MessageKind.OneWayRequest)
        {
            WriteString(writer, header.Target.Type);
            WriteString(writer, header.Target.Key);
        }
        var variableLength = writer.WrittenCount - variableStart;
        try
        {
            body.WriteTo(writer);
        }
        catch
        {
            // A half-written frame would corrupt every later frame on the connection: drop it entirely.
            writer.Truncate(start);
            throw;
        }
        var total = writer.WrittenCount - start - 4;
        if (total > MaxFrameSize)
        {
            writer.Truncate(start);
            throw new InvalidOperationException($"A frame of {total} bytes exceeds the {MaxFrameSize}-byte limit; send smaller payloads.");
        }
        FillFixed(writer.WrittenSpan(start, 4 + FixedHeaderSize), header, total, variableLength);
    }

    private static void FillFixed(Span<byte> span, in MessageHeader header, int total, int variableLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span, total);
        span[4] = (byte)header.Kind;
        span[5] = (byte)header.Flags;
        span[6] = (byte)header.Result;
        span[7] = header.ForwardCount;
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], header.CorrelationId);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], header.ExpiresAtUnixMs);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], header.InterfaceId);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], header.MethodId);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], variableLength);
    }

    /// <summary>Appends a length-prefixed UTF-8 string.</summary>
    public static void WriteString(IBufferWriter<byte> writer, string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        var span = writer.GetSpan(4 + count);
        BinaryPrimitives.WriteInt32LittleEndian(span, count);
        Encoding.UTF8.GetBytes(value, span[4..]);
        writer.Advance(4 + count);
    }

    /// <summary>Reads a string written by <see cref="WriteString"/> and advances <paramref name="span"/>.</summary>
    public static string ReadString(ref ReadOnlySpan<byte> span)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(span);
        if (count < 0 || count > span.Length - 4) throw new InvalidDataException($"String length {count} overruns the frame ({span.Length - 4} bytes left).");
        var value = Encoding.UTF8.GetString(span.Slice(4, count));
        span = span[(4 + count)..];
        return value;
    }

    /// <summary>
    /// Takes one complete frame off the front of <paramref name="buffer"/> if there is one; false when more bytes are needed.
    /// Throws <see cref="InvalidDataException"/> on a malformed or oversized frame.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out Message message)
    {
        message = null!;
        if (buffer.Length < 4) return false;
        Span<byte> lengthBytes = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(lengthBytes);
        var total = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
        if (total < FixedHeaderSize || total > MaxFrameSize) throw new InvalidDataException($"Frame length {total} is outside [{FixedHeaderSize}, {MaxFrameSize}]; the peer does not speak Granary's protocol.");
        if (buffer.Length < 4 + total) return false;
        var frame = buffer.Slice(4, total);
        // One copy per frame: the body must outlive the pipe's buffer anyway.
        var bytes = frame.ToArray();
        buffer = buffer.Slice(4 + total);
        message = Parse(bytes);
        return true;
    }

    private static Message Parse(byte[] bytes)
    {
        ReadOnlySpan<byte> span = bytes;
        var header = new MessageHeader
        {
            Kind = (MessageKind)span[0],
            Flags = (MessageFlags)span[1],
            Result = (ResultKind)span[2],
            ForwardCount = span[3],
            CorrelationId = BinaryPrimitives.ReadInt64LittleEndian(span[4..]),
            ExpiresAtUnixMs = BinaryPrimitives.ReadInt64LittleEndian(span[12..]),
            InterfaceId = BinaryPrimitives.ReadInt32LittleEndian(span[20..]),
            MethodId = BinaryPrimitives.ReadInt32LittleEndian(span[24..]),
        };
        var variableLength = BinaryPrimitives.ReadInt32LittleEndian(span[28..]);
        if (variableLength < 0 || variableLength > bytes.Length - FixedHeaderSize) throw new InvalidDataException($"Variable header length {variableLength} overruns the frame of {bytes.Length} bytes.");
        if (variableLength > 0)
        {
            var variable = span.Slice(FixedHeaderSize, variableLength);
            var type = ReadString(ref variable);
            var key = ReadString(ref variable);
            header.Target = new GrainId(type, key);
        }
        var bodyStart = FixedHeaderSize + variableLength;
        return new Message { Header = header, Body = new ReadOnlyMemory<byte>(bytes, bodyStart, bytes.Length - bodyStart) };
    }
}

/// <summary>A growable byte buffer for outgoing frames: reused between flushes, never zeroed.</summary>
public sealed class FrameBuffer(int initialCapacity = 64 * 1024) : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[initialCapacity];
    private int _written;

    /// <summary>Bytes written so far.</summary>
    public int WrittenCount => _written;
    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);
    /// <summary>Forgets the written bytes, keeping the capacity.</summary>
    public void Reset() => _written = 0;
    /// <summary>A writable view of already-written bytes (to back-fill a length prefix).</summary>
    public Span<byte> WrittenSpan(int start, int length) => _buffer.AsSpan(start, length);
    /// <summary>Drops everything written after <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => _written = length;
    /// <inheritdoc/>
    public void Advance(int count) => _written += count;
    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _buffer.AsMemory(_written); }
    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0) { Ensure(sizeHint); return _buffer.AsSpan(_written); }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 256;
        if (_buffer.Length - _written >= sizeHint) return;
        var size = Math.Max(_buffer.Length * 2, _written + sizeHint);
        Array.Resize(ref _buffer, size);
    }
}
