namespace Granary.Runtime.Serialization;

/// <summary>Serializes <see cref="RequestContextData"/> for remote calls. Values may be string, bool, int, long, double or Guid.</summary>
public static class RequestContextCodec
{
    private const byte StringTag = 1, BooleanTag = 2, Int32Tag = 3, Int64Tag = 4, DoubleTag = 5, GuidTag = 6;

    /// <summary>Writes the entry count (0 for null) and each key/value.</summary>
    public static void Write(GrainWriter writer, RequestContextData? data)
    {
        writer.WriteInt32(data?.Count ?? 0);
        if (data is null) return;
        foreach (var (key, value) in data)
        {
            writer.WriteString(key);
            switch (value)
            {
                case string s: writer.WriteByte(StringTag); writer.WriteString(s); break;
                case bool b: writer.WriteByte(BooleanTag); writer.WriteBoolean(b); break;
                case int i: writer.WriteByte(Int32Tag); writer.WriteInt32(i); break;
                case long l: writer.WriteByte(Int64Tag); writer.WriteInt64(l); break;
                case double d: writer.WriteByte(DoubleTag); writer.WriteDouble(d); break;
                case Guid g: writer.WriteByte(GuidTag); writer.WriteGuid(g); break;
                default:
                    throw new GrainSerializationException(
                        $"RequestContext value '{key}' has type {value.GetType().FullName}, which cannot cross silos; use string, bool, int, long, double or Guid.");
            }
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote; null when there were no entries.</summary>
    public static RequestContextData? Read(ref GrainReader reader)
    {
        var count = reader.ReadCount();
        if (count <= 0) return null;
        var values = new KeyValuePair<string, object>[count];
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString() ?? throw new GrainSerializationException("RequestContext key is null.");
            object value = reader.ReadByte() switch
            {
                StringTag => reader.ReadString() ?? string.Empty,
                BooleanTag => reader.ReadBoolean(),
                Int32Tag => reader.ReadInt32(),
                Int64Tag => reader.ReadInt64(),
                DoubleTag => reader.ReadDouble(),
                GuidTag => reader.ReadGuid(),
                var tag => throw new GrainSerializationException($"Unknown RequestContext value tag {tag} for key '{key}'."),
            };
            values[i] = new(key, value);
        }
        return RequestContextData.From(values);
    }
}
