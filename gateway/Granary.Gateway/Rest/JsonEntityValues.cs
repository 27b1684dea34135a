using System.Globalization;
using System.Text.Json;
using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway.Rest;

/// <summary>
/// Reads JSON values as a declared type, strictly: a JSON number for a String column, a string for an Int64 column, a
/// fraction for an integer are errors naming the column, the row and the value, never coerced. Timestamps are ISO 8601
/// text (no offset = UTC) or epoch seconds as Feast's <c>unix_timestamp_val</c>; bytes are base64 text.
/// </summary>
public static class JsonEntityValues
{
    /// <summary>The values of the JSON array <paramref name="column"/> as <paramref name="type"/>; <paramref name="where"/> names it in errors (e.g. <c>entities.driver_id</c>).</summary>
    public static IReadOnlyList<object?> ReadColumn(JsonElement column, ValueType type, string where)
    {
        if (column.ValueKind != JsonValueKind.Array)
            throw new GatewayRequestException($"{where} is {Describe(column)}, not a list", $"send one value per entity row, e.g. \"{LastName(where)}\": [{Example(type)}]");
        var values = new object?[column.GetArrayLength()];
        var row = 0;
        foreach (var item in column.EnumerateArray())
        {
            values[row] = Read(item, type, $"{where}[{row}]");
            row++;
        }
        return values;
    }

    /// <summary>One value as <paramref name="type"/> (null stays null).</summary>
    public static object? Read(JsonElement value, ValueType type, string where)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        if (type.IsList)
        {
            if (value.ValueKind != JsonValueKind.Array)
                throw Mismatch(value, type, where);
            var scalar = new ValueType(type.Scalar);
            var items = new List<object?>(value.GetArrayLength());
            var i = 0;
            foreach (var item in value.EnumerateArray()) items.Add(ReadScalar(item, scalar, $"{where}[{i++}]"));
            return ListOf(type.Scalar, items);
        }
        return ReadScalar(value, type, where);
    }

    private static object ReadScalar(JsonElement value, ValueType type, string where)
    {
        switch (type.Scalar)
        {
            case ScalarType.Int32 when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i): return i;
            case ScalarType.Int64 when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var l): return l;
            case ScalarType.Float32 or ScalarType.Float64 when value.ValueKind == JsonValueKind.Number: return Finite(value, type, where);
            case ScalarType.String when value.ValueKind == JsonValueKind.String: return value.GetString()!;
            case ScalarType.Bool when value.ValueKind is JsonValueKind.True or JsonValueKind.False: return value.GetBoolean();
            case ScalarType.Bytes when value.ValueKind == JsonValueKind.String && value.TryGetBytesFromBase64(out var bytes): return bytes;
            case ScalarType.UnixTimestamp when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds):
                return RequestTimes.FromEpochSeconds(seconds, where);
            case ScalarType.UnixTimestamp when value.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at):
                return at;
            default: throw Mismatch(value, type, where);
        }
    }

    // A JSON number beyond the type's range (1e400, or 1e39 for Float32) is refused, never stored as an infinity.
    private static object Finite(JsonElement value, ValueType type, string where)
    {
        if (value.TryGetDouble(out var d))
        {
            if (type.Scalar == ScalarType.Float64) return d;
            if (float.IsFinite((float)d)) return (float)d;
        }
        throw new GatewayRequestException($"{where} is {Describe(value)}, which is outside the range of {type}",
            $"send finite {type} values (at most {(type.Scalar == ScalarType.Float64 ? double.MaxValue : float.MaxValue):R} in magnitude)");
    }

    private static GatewayRequestException Mismatch(JsonElement value, ValueType type, string where)
        => new($"{where} is {Describe(value)}, but '{LastName(where)}' is declared {type}", $"send {type} values, e.g. {Example(type)}");

    /// <summary>A JSON value as an error message shows it: its kind and (shortened) text.</summary>
    public static string Describe(JsonElement value)
    {
        var text = value.GetRawText();
        if (text.Length > 60) text = text[..57] + "...";
        return value.ValueKind switch
        {
            JsonValueKind.Number => $"the number {text}",
            JsonValueKind.String => $"the string {text}",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {text}",
            JsonValueKind.Array => $"the list {text}",
            JsonValueKind.Object => $"the object {text}",
            JsonValueKind.Null => "null",
            _ => text,
        };
    }

    private static string LastName(string where)
    {
        var end = where.IndexOf('[');
        var name = end < 0 ? where : where[..end];
        var dot = name.LastIndexOf('.');
        return dot < 0 ? name : name[(dot + 1)..];
    }

    private static string Example(ValueType type) => (type.IsList ? "[" : "") + type.Scalar switch
    {
        ScalarType.Int32 or ScalarType.Int64 => "1001",
        ScalarType.Float32 or ScalarType.Float64 => "0.5",
        ScalarType.String => "\"abc\"",
        ScalarType.Bool => "true",
        ScalarType.Bytes => "\"AQID\" (base64)",
        _ => "\"2024-01-01T00:00:00Z\"",
    } + (type.IsList ? "]" : "");

    // Lists as the online tier holds them: typed arrays.
    private static object ListOf(ScalarType scalar, List<object?> items) => scalar switch
    {
        ScalarType.Int32 => items.Select(v => (int)v!).ToArray(),
        ScalarType.Int64 => items.Select(v => (long)v!).ToArray(),
        ScalarType.Float32 => items.Select(v => (float)v!).ToArray(),
        ScalarType.Float64 => items.Select(v => (double)v!).ToArray(),
        ScalarType.Bool => items.Select(v => (bool)v!).ToArray(),
        ScalarType.String => items.Select(v => (string)v!).ToArray(),
        ScalarType.Bytes => items.Select(v => (byte[])v!).ToArray(),
        _ => items.Select(v => (DateTimeOffset)v!).ToArray(),
    };
}
