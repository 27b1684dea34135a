using System.Text.Json;
using System.Text.Json.Serialization;

namespace Granary.Definitions;

/// <summary>The one JSON form of registry objects: what the registry stores and what equality checks compare.</summary>
public static class RegistryJson
{
    /// <summary>Serializer options: camelCase, enums as names, indented for humans reading the registry tables.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver { Modifiers = { OmitWhenEmptyAttribute.Apply } },
    };

    /// <summary>Serializes a snapshot.</summary>
    public static string Serialize(RegistrySnapshot snapshot) => JsonSerializer.Serialize(snapshot, Options);

    /// <summary>Deserializes a snapshot; throws naming the problem when the text is not a snapshot.</summary>
    public static RegistrySnapshot Deserialize(string json)
        => JsonSerializer.Deserialize<RegistrySnapshot>(json, Options)
           ?? throw new JsonException("registry snapshot JSON is 'null'");

    /// <summary>Serializes any registry object (entity, source, view, service) in the same form, with all fields of its concrete type.</summary>
    public static string SerializeObject(RegistryObject value)
        => value is DataSource source
            ? JsonSerializer.Serialize(source, Options) // keeps the "kind" discriminator
            : JsonSerializer.Serialize(value, value.GetType(), Options);

    /// <summary>The definitions of a snapshot alone (no project, version, time or materialization intervals), for equality checks.</summary>
    public static string DefinitionsOf(RegistrySnapshot snapshot) => Serialize(snapshot with
    {
        Project = "",
        Version = 0,
        CreatedAt = default,
        MaterializationIntervals = new Dictionary<string, IReadOnlyList<MaterializationInterval>>(),
    });
}
