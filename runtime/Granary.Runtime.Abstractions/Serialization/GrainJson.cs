using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Granary.Runtime.Serialization;

/// <summary>The System.Text.Json settings Granary uses for grain state and for argument types without a binary form.</summary>
public static class GrainJson
{
    /// <summary>Shared, read-only options: web-style naming off, fields included, reflection-based metadata cached per type.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The cached metadata for <typeparamref name="T"/>: resolved once per type, never per message.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>() => Cache<T>.Info;

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            IncludeFields = true,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }

    private static class Cache<T>
    {
        public static readonly JsonTypeInfo<T> Info = (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
    }
}
