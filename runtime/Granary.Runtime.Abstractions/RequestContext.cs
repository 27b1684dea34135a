using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Granary.Runtime;

/// <summary>
/// Ambient key/value pairs that flow with grain calls: copied into every outgoing call and visible to the callee,
/// flowing downstream only (a callee's changes never reach its caller). Values should be small and untrusted.
/// </summary>
public static class RequestContext
{
    private static readonly AsyncLocal<RequestContextData?> Current = new();

    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    public static object? Get(string key) => Current.Value is { } data && data.TryGetValue(key, out var value) ? value : null;

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> for this flow and the calls it makes.</summary>
    public static void Set(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        Current.Value = (Current.Value ?? RequestContextData.Empty).With(key, value);
    }

    /// <summary>Removes <paramref name="key"/>; returns whether it was present.</summary>
    public static bool Remove(string key)
    {
        if (Current.Value is not { } data || !data.ContainsKey(key)) return false;
        var next = data.Without(key);
        Current.Value = next.Count == 0 ? null : next;
        return true;
    }

    /// <summary>Removes every key from this flow.</summary>
    public static void Clear() => Current.Value = null;

    /// <summary>The current immutable snapshot (null when empty); the runtime stores it in each outgoing request.</summary>
    public static RequestContextData? Export() => Current.Value;

    /// <summary>Replaces the current snapshot; the runtime calls this before running a request.</summary>
    public static void Import(RequestContextData? data) => Current.Value = data is { Count: 0 } ? null : data;
}

/// <summary>An immutable snapshot of <see cref="RequestContext"/>; changes create new snapshots, so sharing one is a copy.</summary>
public sealed class RequestContextData : IReadOnlyDictionary<string, object>
{
    /// <summary>The snapshot with no keys.</summary>
    public static RequestContextData Empty { get; } = new(new Dictionary<string, object>(StringComparer.Ordinal));

    private readonly Dictionary<string, object> _values;

    private RequestContextData(Dictionary<string, object> values) => _values = values;

    /// <summary>A snapshot holding <paramref name="values"/>.</summary>
    public static RequestContextData From(IEnumerable<KeyValuePair<string, object>> values)
        => new(new Dictionary<string, object>(values, StringComparer.Ordinal));

    /// <summary>A copy with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public RequestContextData With(string key, object value)
    {
        var copy = new Dictionary<string, object>(_values, StringComparer.Ordinal) { [key] = value };
        return new RequestContextData(copy);
    }

    /// <summary>A copy without <paramref name="key"/>.</summary>
    public RequestContextData Without(string key)
    {
        var copy = new Dictionary<string, object>(_values, StringComparer.Ordinal);
        copy.Remove(key);
        return new RequestContextData(copy);
    }

    /// <inheritdoc/>
    public object this[string key] => _values[key];
    /// <inheritdoc/>
    public IEnumerable<string> Keys => _values.Keys;
    /// <inheritdoc/>
    public IEnumerable<object> Values => _values.Values;
    /// <inheritdoc/>
    public int Count => _values.Count;
    /// <inheritdoc/>
    public bool ContainsKey(string key) => _values.ContainsKey(key);
    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value) => _values.TryGetValue(key, out value);
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _values.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
