namespace Granary.Definitions;

/// <summary>
/// An on-demand feature view's transform, written once in C# in the feature repository (<c>transforms/*.cs</c>),
/// compiled at <c>apply</c>, and run by the same compiled code online (per request row) and offline (per joined row).
/// Implementations must be stateless and thread-safe: one instance serves all rows.
/// </summary>
public interface IOnDemandTransform
{
    /// <summary>Reads the inputs from <paramref name="row"/> and sets every output feature on it.</summary>
    void Transform(TransformRow row);
}

/// <summary>
/// One row handed to a transform: the inputs (source features by name, request fields) and the outputs it sets.
/// Values are CLR values: long, int, double, float, string, bool, byte[], DateTimeOffset, arrays of these, or null.
/// </summary>
public sealed class TransformRow
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    /// <summary>Gets an input (or an output already set); throws naming the available columns when absent.</summary>
    public object? this[string name]
    {
        get => _values.TryGetValue(name, out var v) ? v
            : throw new KeyNotFoundException($"transform input '{name}' is not in the row; available: {string.Join(", ", _values.Keys)}");
        set => _values[name] = value;
    }

    /// <summary>Whether the row has a value (possibly null) for <paramref name="name"/>.</summary>
    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>Whether the value is missing or null.</summary>
    public bool IsNull(string name) => !_values.TryGetValue(name, out var v) || v is null;

    /// <summary>The value as a double (any numeric input converts); null when null.</summary>
    public double? GetDouble(string name) => this[name] switch
    {
        null => null,
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        bool b => b ? 1 : 0,
        var other => throw new InvalidCastException($"transform input '{name}' is {other.GetType().Name}, not a number"),
    };

    /// <summary>The value as a long (integers only); null when null.</summary>
    public long? GetInt64(string name) => this[name] switch
    {
        null => null,
        long l => l,
        int i => i,
        var other => throw new InvalidCastException($"transform input '{name}' is {other.GetType().Name}, not an integer"),
    };

    /// <summary>The value as a string; null when null.</summary>
    public string? GetString(string name) => this[name]?.ToString();

    /// <summary>The value as a bool; null when null.</summary>
    public bool? GetBool(string name) => this[name] switch
    {
        null => null,
        bool b => b,
        var other => throw new InvalidCastException($"transform input '{name}' is {other.GetType().Name}, not a bool"),
    };

    /// <summary>Removes every value so the row can be reused.</summary>
    public void Clear() => _values.Clear();

    /// <summary>The names currently in the row.</summary>
    public IEnumerable<string> Names => _values.Keys;
}
