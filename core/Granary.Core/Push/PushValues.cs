using System.Collections;
using System.Globalization;
using System.Text.Json;
using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Push;

/// <summary>
/// Turns one pushed value into the CLR value its column's declared type stores (see <see cref="Online.OnlineValueTypes"/>).
/// Nothing is guessed from the data: text is parsed strictly as the declared type (integers and floats in invariant
/// culture, booleans as true/false, timestamps as ISO 8601 with naive = UTC and offsets honoured, bytes as base64, lists
/// as a JSON array); typed values are accepted only when the conversion is exact (an Int64 of 7 for a Float64 feature,
/// yes; 1.5 for an Int64, or 3e9 for an Int32, no). Floats must be finite: NaN, infinities and text beyond the type's
/// range (1e400) are refused, never stored.
/// </summary>
public static class PushValues
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd HH:mmK", "yyyy-MM-dd",
    ];

    /// <summary>
    /// Converts <paramref name="raw"/> to <paramref name="type"/>'s CLR type; false with <paramref name="problem"/> saying
    /// why when it does not fit. Null stays null (the caller decides whether null is allowed).
    /// </summary>
    public static bool TryConvert(object? raw, ValueType type, out object? value, out string? problem)
    {
        value = null;
        problem = null;
        if (raw is null) return true;
        if (type.IsList) return TryConvertList(raw, type.Scalar, out value, out problem);
        if (raw is string text) return TryParseScalar(text, type.Scalar, out value, out problem);
        return TryConvertScalar(raw, type.Scalar, out value, out problem);
    }

    /// <summary>The value as it is shown in an error message: text quoted, other values in invariant culture, long text cut.</summary>
    public static string Show(object? raw)
    {
        var text = raw switch
        {
            null => "null",
            string s => "'" + s + "'",
            byte[] b => $"{b.Length} bytes",
            DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
            DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(5).Select(Show)) + "]",
            _ => raw.ToString() ?? "",
        };
        return text.Length > 80 ? text[..77] + "..." : text;
    }

    private static bool TryParseScalar(string text, ScalarType scalar, out object? value, out string? problem)
    {
        value = null;
        problem = null;
        switch (scalar)
        {
            case ScalarType.String:
                value = text;
                return true;
            case ScalarType.Int64 when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l):
                value = l;
                return true;
            case ScalarType.Int32 when int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i):
                value = i;
                return true;
            case ScalarType.Float64 when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d):
                value = d;
                return true;
            // Parsed as a double first, so a finite value too large for Float32 is refused instead of becoming infinity.
            case ScalarType.Float32 when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite((float)f):
                value = (float)f;
                return true;
            case ScalarType.Bool when text.Equals("true", StringComparison.OrdinalIgnoreCase):
                value = true;
                return true;
            case ScalarType.Bool when text.Equals("false", StringComparison.OrdinalIgnoreCase):
                value = false;
                return true;
            case ScalarType.Bytes:
                try
                {
                    value = Convert.FromBase64String(text);
                    return true;
                }
                catch (FormatException)
                {
                    problem = "is not base64 text";
                    return false;
                }
            case ScalarType.UnixTimestamp when DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t):
                value = t;
                return true;
        }
        problem = scalar switch
        {
            ScalarType.Int32 or ScalarType.Int64 => "is not a whole number in range",
            ScalarType.Float32 or ScalarType.Float64 => "is not a number (use '.' for decimals)",
            ScalarType.Bool => "is not true or false",
            ScalarType.UnixTimestamp => "is not an ISO 8601 timestamp (e.g. 2024-01-01T08:00:00Z; no offset means UTC)",
            _ => "does not fit",
        };
        return false;
    }

    private static bool TryConvertScalar(object raw, ScalarType scalar, out object? value, out string? problem)
    {
        value = null;
        problem = null;
        switch (scalar, raw)
        {
            case (ScalarType.String, _):
                problem = $"is of type {raw.GetType().Name}, not text";
                return false;
            case (ScalarType.Bool, bool b):
                value = b;
                return true;
            case (ScalarType.Bytes, byte[] bytes):
                value = bytes;
                return true;
            case (ScalarType.UnixTimestamp, DateTimeOffset t):
                value = t.ToUniversalTime();
                return true;
            case (ScalarType.UnixTimestamp, DateTime t):
                // A DateTime of unspecified kind is a UTC clock reading (the same rule as naive timestamps everywhere).
                value = new DateTimeOffset(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc));
                return true;
            case (ScalarType.UnixTimestamp, DateOnly d):
                value = new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
                return true;
        }
        if (scalar is ScalarType.Int32 or ScalarType.Int64 && AsInteger(raw) is { } whole)
        {
            if (scalar == ScalarType.Int64) { value = whole; return true; }
            if (whole is >= int.MinValue and <= int.MaxValue) { value = (int)whole; return true; }
            problem = "is outside the Int32 range";
            return false;
        }
        if (scalar is ScalarType.Float64)
        {
            switch (raw)
            {
                case double d when double.IsFinite(d): value = d; return true;
                case float f when float.IsFinite(f): value = (double)f; return true;
                case decimal m: value = (double)m; return true;
            }
            if (AsInteger(raw) is { } n && Math.Abs(n) <= 1L << 53) { value = (double)n; return true; }
        }
        if (scalar is ScalarType.Float32)
        {
            switch (raw)
            {
                case float f when float.IsFinite(f): value = f; return true;
                case double d when double.IsFinite(d) && (double)(float)d == d: value = (float)d; return true;
                case decimal m when (decimal)(float)m == m: value = (float)m; return true;
            }
            if (AsInteger(raw) is { } n && Math.Abs(n) <= 1L << 24) { value = (float)n; return true; }
        }
        problem = (raw is double nd && !double.IsFinite(nd)) || (raw is float nf && !float.IsFinite(nf))
            ? "is not a finite number (NaN and infinities are refused)"
            : $"is of type {raw.GetType().Name}, which does not convert exactly";
        return false;
    }

    private static long? AsInteger(object raw) => raw switch
    {
        long l => l,
        int i => i,
        short s => s,
        sbyte b => b,
        byte b => b,
        ushort u => u,
        uint u => u,
        ulong u when u <= long.MaxValue => (long)u,
        _ => null,
    };

    private static bool TryConvertList(object raw, ScalarType scalar, out object? value, out string? problem)
    {
        value = null;
        problem = null;
        IList items;
        if (raw is string text)
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.ValueKind != JsonValueKind.Array) { problem = "is not a JSON array (e.g. [1, 2, 3])"; return false; }
                items = json.RootElement.EnumerateArray().Select(e => e.ValueKind switch
                {
                    JsonValueKind.String => e.GetString(),
                    JsonValueKind.Null => null,
                    _ => (object?)e.GetRawText(),
                }).ToList();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException) // InvalidOperationException: a string that is not UTF-8 text
            {
                problem = "is not a JSON array (e.g. [1, 2, 3])";
                return false;
            }
        }
        else if (raw is IList list and not byte[]) items = list;
        else
        {
            problem = $"is of type {raw.GetType().Name}, not a list";
            return false;
        }
        var array = Array.CreateInstance(Online.OnlineValueTypes.ClrTypeOf(new ValueType(scalar)), items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is null) { problem = $"has a null element at index {i} (lists may not hold nulls)"; return false; }
            var ok = item is string s ? TryParseScalar(s, scalar, out var converted, out var why) : TryConvertScalar(item, scalar, out converted, out why);
            if (!ok) { problem = $"element {i} ({Show(item)}) {why}"; return false; }
            array.SetValue(converted, i);
        }
        value = array;
        return true;
    }
}
