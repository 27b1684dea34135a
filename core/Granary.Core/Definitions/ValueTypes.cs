namespace Granary.Definitions;

/// <summary>The scalar value types a feature or join key can have (Feast's names).</summary>
public enum ScalarType
{
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>64-bit signed integer.</summary>
    Int64,
    /// <summary>32-bit IEEE float.</summary>
    Float32,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
    /// <summary>UTF-8 text.</summary>
    String,
    /// <summary>Boolean.</summary>
    Bool,
    /// <summary>Raw bytes.</summary>
    Bytes,
    /// <summary>A point in time (UTC), carried as a <see cref="DateTimeOffset"/>.</summary>
    UnixTimestamp,
}

/// <summary>A value type: a scalar or a list of scalars. Written <c>Int64</c> or <c>Array(Float32)</c>.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ValueTypeJsonConverter))]
public readonly record struct ValueType(ScalarType Scalar, bool IsList = false)
{
    /// <summary>The text form used in YAML and messages.</summary>
    public override string ToString() => IsList ? $"Array({Scalar})" : Scalar.ToString();

    /// <summary>Parses <c>Int64</c>, <c>Array(Float32)</c> (also <c>List[Float32]</c>); false when unknown.</summary>
    public static bool TryParse(string? text, out ValueType type)
    {
        type = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        var isList = false;
        if ((t.StartsWith("Array(", StringComparison.Ordinal) && t.EndsWith(')')) ||
            (t.StartsWith("List[", StringComparison.Ordinal) && t.EndsWith(']')))
        {
            isList = true;
            t = t[(t.IndexOfAny(['(', '[']) + 1)..^1].Trim();
        }
        if (!Enum.TryParse<ScalarType>(t, ignoreCase: false, out var scalar) || !Enum.IsDefined(scalar)) return false;
        type = new ValueType(scalar, isList);
        return true;
    }

    /// <summary>All type names accepted by <see cref="TryParse"/>, for error messages.</summary>
    public static string KnownNames => string.Join(", ", Enum.GetNames<ScalarType>()) + ", and Array(<scalar>) of each";
}

/// <summary>A named, typed column of a schema.</summary>
public sealed record Field(string Name, ValueType Type, string? Description = null)
{
    /// <summary>Key/value labels of the feature (Feast's <c>FeatureSpecV2.tags</c>), e.g. <c>pii: "true"</c>.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = RegistryObject.EmptyTags;
    /// <summary>The data rules on this feature's values (push, stream ingestion and materialization check them); empty: none.</summary>
    [OmitWhenEmpty] public IReadOnlyList<DataRule> Rules { get; init; } = [];
}

/// <summary>Writes a <see cref="ValueType"/> as its text form (<c>"Array(Float32)"</c>) in JSON.</summary>
public sealed class ValueTypeJsonConverter : System.Text.Json.Serialization.JsonConverter<ValueType>
{
    /// <inheritdoc/>
    public override ValueType Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return ValueType.TryParse(text, out var type) ? type
            : throw new System.Text.Json.JsonException($"value type '{text}' is unknown; known: {ValueType.KnownNames}");
    }

    /// <inheritdoc/>
    public override void Write(System.Text.Json.Utf8JsonWriter writer, ValueType value, System.Text.Json.JsonSerializerOptions options)
        => writer.WriteStringValue(value.ToString());
}
