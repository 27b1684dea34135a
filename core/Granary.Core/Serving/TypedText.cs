using System.Globalization;
using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Serving;

/// <summary>
/// Parses text given by a user (CLI options, query strings) into a value of a declared type: explicitly, never guessed.
/// Timestamps without an offset are UTC; offsets are honoured.
/// </summary>
public static class TypedText
{
    /// <summary>The value of <paramref name="text"/> as <paramref name="type"/>; throws <see cref="OnlineRetrievalException"/> naming <paramref name="what"/>, the text and the type.</summary>
    public static object Parse(string text, ValueType type, string what)
    {
        if (type.IsList) throw new OnlineRetrievalException($"{what}: list values cannot be given as text ('{text}')", "pass list values through the JSON API");
        var invariant = CultureInfo.InvariantCulture;
        object? value = type.Scalar switch
        {
            ScalarType.Int32 => int.TryParse(text, NumberStyles.Integer, invariant, out var i) ? i : null,
            ScalarType.Int64 => long.TryParse(text, NumberStyles.Integer, invariant, out var l) ? l : null,
            ScalarType.Float32 => float.TryParse(text, NumberStyles.Float, invariant, out var f) ? f : null,
            ScalarType.Float64 => double.TryParse(text, NumberStyles.Float, invariant, out var d) ? d : null,
            ScalarType.Bool => bool.TryParse(text, out var b) ? b : null,
            ScalarType.String => text,
            ScalarType.Bytes => TryBase64(text),
            ScalarType.UnixTimestamp => IsoTime.TryParse(text, out var t) ? t : null,
            _ => null,
        };
        return value ?? throw new OnlineRetrievalException($"{what}: '{text}' is not a valid {type}", $"give a {type} value");
    }

    private static byte[]? TryBase64(string text)
    {
        try { return Convert.FromBase64String(text); }
        catch (FormatException) { return null; }
    }
}
