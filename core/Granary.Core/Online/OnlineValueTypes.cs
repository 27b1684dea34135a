using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Online;

/// <summary>The CLR types that carry each feature value type online, and the check of a row against its view's schema.</summary>
public static class OnlineValueTypes
{
    /// <summary>The CLR type of a non-null value of <paramref name="type"/> (e.g. <c>long</c>, <c>float[]</c>).</summary>
    public static Type ClrTypeOf(ValueType type)
    {
        var scalar = type.Scalar switch
        {
            ScalarType.Int32 => typeof(int),
            ScalarType.Int64 => typeof(long),
            ScalarType.Float32 => typeof(float),
            ScalarType.Float64 => typeof(double),
            ScalarType.String => typeof(string),
            ScalarType.Bool => typeof(bool),
            ScalarType.Bytes => typeof(byte[]),
            ScalarType.UnixTimestamp => typeof(DateTimeOffset),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown scalar type"),
        };
        return type.IsList ? scalar.MakeArrayType() : scalar;
    }

    /// <summary>The value type a CLR value carries; false for null and for types the online tier does not store.</summary>
    public static bool TryGetValueType(object? value, out ValueType type)
    {
        type = value switch
        {
            int => new(ScalarType.Int32),
            long => new(ScalarType.Int64),
            float => new(ScalarType.Float32),
            double => new(ScalarType.Float64),
            string => new(ScalarType.String),
            bool => new(ScalarType.Bool),
            byte[] => new(ScalarType.Bytes),
            DateTimeOffset => new(ScalarType.UnixTimestamp),
            int[] => new(ScalarType.Int32, true),
            long[] => new(ScalarType.Int64, true),
            float[] => new(ScalarType.Float32, true),
            double[] => new(ScalarType.Float64, true),
            string[] => new(ScalarType.String, true),
            bool[] => new(ScalarType.Bool, true),
            byte[][] => new(ScalarType.Bytes, true),
            DateTimeOffset[] => new(ScalarType.UnixTimestamp, true),
            _ => default,
        };
        return value is int or long or float or double or string or bool or byte[] or DateTimeOffset
            or int[] or long[] or float[] or double[] or string[] or bool[] or byte[][] or DateTimeOffset[];
    }

    /// <summary>
    /// Checks that <paramref name="row"/> belongs to <paramref name="view"/> and that every value has its feature's type
    /// (null allowed; missing features allowed; lists may not hold null elements).
    /// </summary>
    /// <exception cref="OnlineRowSchemaException">The view's name differs, a feature is unknown, or a value has another type.</exception>
    public static void Check(OnlineRow row, FeatureView view)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(view);
        if (row.FeatureView != view.Name)
            throw new OnlineRowSchemaException($"row of entity '{row.Entity}' is for feature view '{row.FeatureView}', not '{view.Name}'");
        foreach (var (name, value) in row.Values)
        {
            Field? field = null;
            foreach (var f in view.Features) if (f.Name == name) { field = f; break; }
            if (field is null)
                throw new OnlineRowSchemaException(
                    $"feature view '{view.Name}' has no feature '{name}' (row of entity '{row.Entity}'); known: {string.Join(", ", view.Features.Select(f => f.Name))}",
                    "write only the view's features, or add the feature to the view and apply");
            if (value is null) continue;
            if (!TryGetValueType(value, out var given) || given != field.Type)
                throw new OnlineRowSchemaException(
                    $"feature '{view.Name}:{name}' is {field.Type}, but entity '{row.Entity}' has {Describe(value)}",
                    $"give a {ClrTypeOf(field.Type).Name} value (or null)");
            if (value is string[] ss && Array.IndexOf(ss, null) is var i and >= 0)
                throw new OnlineRowSchemaException($"feature '{view.Name}:{name}' of entity '{row.Entity}' has a null element at index {i}",
                    "lists may not hold nulls; use null for the whole value instead");
            if (value is byte[][] bs && Array.IndexOf(bs, null) is var j and >= 0)
                throw new OnlineRowSchemaException($"feature '{view.Name}:{name}' of entity '{row.Entity}' has a null element at index {j}",
                    "lists may not hold nulls; use null for the whole value instead");
        }
    }

    internal static string Describe(object value)
        => TryGetValueType(value, out var t) ? $"a {t} value" : $"a value of CLR type {value.GetType().FullName}";
}
