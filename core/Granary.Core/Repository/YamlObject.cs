using System.Globalization;
using Granary.Definitions;
using YamlDotNet.RepresentationModel;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Repository;

/// <summary>
/// A YAML mapping being read into a model object: typed accessors that record errors with the value's line
/// instead of throwing, so one load reports every problem, and a check for misspelt keys.
/// </summary>
internal sealed class YamlObject
{
    private readonly YamlMappingNode _node;
    private readonly List<RepositoryError> _errors;
    private readonly Dictionary<string, YamlNode> _children = new(StringComparer.Ordinal);

    public YamlObject(string file, YamlMappingNode node, string what, List<RepositoryError> errors)
    {
        File = file;
        _node = node;
        _errors = errors;
        What = what;
        foreach (var (key, value) in node.Children)
        {
            if (key is YamlScalarNode { Value: { } name }) _children[name] = value;
            else Error(key, $"{what}: keys must be plain names");
        }
    }

    /// <summary>The error list this object reports into.</summary>
    public List<RepositoryError> Errors => _errors;

    /// <summary>The file, relative to the repository root.</summary>
    public string File { get; }

    /// <summary>What is being read, for messages (e.g. "feature view 'driver_stats'").</summary>
    public string What { get; set; }

    /// <summary>Where the mapping starts.</summary>
    public SourceLocation Location => At(_node);

    public SourceLocation At(YamlNode node) => new(File, checked((int)node.Start.Line));

    /// <summary>Where the value of <paramref name="key"/> is, or the mapping itself when absent.</summary>
    public SourceLocation LocationOf(string key) => _children.TryGetValue(key, out var n) ? At(n) : Location;

    public bool Has(string key) => _children.ContainsKey(key);

    public YamlNode? Node(string key) => _children.GetValueOrDefault(key);

    public void Error(YamlNode node, string message) => _errors.Add(new RepositoryError(At(node), message));

    public void Error(string key, string message) => _errors.Add(new RepositoryError(LocationOf(key), message));

    /// <summary>Reports keys that are not in <paramref name="known"/> (typos such as <c>ttll</c>).</summary>
    public void RejectUnknownKeys(params string[] known)
    {
        foreach (var (key, value) in _children)
            if (Array.IndexOf(known, key) < 0)
                _errors.Add(new RepositoryError(At(value), $"{What}: unknown key '{key}'; known: {string.Join(", ", known)}"));
    }

    public string? String(string key, bool required = false)
    {
        if (!_children.TryGetValue(key, out var node))
        {
            if (required) _errors.Add(new RepositoryError(Location, $"{What}: '{key}' is required"));
            return null;
        }
        if (node is YamlScalarNode s)
        {
            if (string.IsNullOrWhiteSpace(s.Value))
            {
                if (required) Error(node, $"{What}: '{key}' must not be empty");
                return null;
            }
            return s.Value;
        }
        Error(node, $"{What}: '{key}' must be a single value, not a {KindOf(node)}");
        return null;
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null) return null;
        if (bool.TryParse(text, out var b)) return b;
        Error(key, $"{What}: '{key}' is '{text}'; expected true or false");
        return null;
    }

    public TimeSpan? Duration(string key)
    {
        var text = String(key);
        if (text is null) return null;
        if (DurationText.TryParse(text, out var value, out var tooLong)) return value;
        if (tooLong)
            Error(key, $"{What}: {key} '{text}' is too long; the longest duration is {DurationText.Format(DurationText.MaxValue)}; write a shorter one{(key == "ttl" ? ", or 0 for no limit" : "")}");
        else
            Error(key, $"{What}: {key} '{text}' is not a duration; use {DurationText.Forms}");
        return null;
    }

    public ValueType? Type(string key, ValueType? fallback = null)
    {
        var text = String(key, required: fallback is null);
        if (text is null) return fallback;
        if (ValueType.TryParse(text, out var type)) return type;
        Error(key, $"{What}: type '{text}' is unknown; known: {ValueType.KnownNames}");
        return null;
    }

    /// <summary>A list of scalars; a single scalar counts as a list of one.</summary>
    public List<(string Value, SourceLocation Location)> Strings(string key, bool required = false)
    {
        var result = new List<(string, SourceLocation)>();
        if (!_children.TryGetValue(key, out var node))
        {
            if (required) _errors.Add(new RepositoryError(Location, $"{What}: '{key}' is required"));
            return result;
        }
        if (node is YamlScalarNode { Value: { Length: > 0 } one }) { result.Add((one, At(node))); return result; }
        if (node is not YamlSequenceNode seq)
        {
            if (node is not YamlScalarNode) Error(node, $"{What}: '{key}' must be a list of names");
            return result;
        }
        foreach (var item in seq.Children)
        {
            if (item is YamlScalarNode { Value: { Length: > 0 } v }) result.Add((v, At(item)));
            else Error(item, $"{What}: every entry of '{key}' must be a name");
        }
        return result;
    }

    public Dictionary<string, string> Map(string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!_children.TryGetValue(key, out var node)) return result;
        if (node is YamlScalarNode { Value: null or "" }) return result;
        if (node is not YamlMappingNode map)
        {
            Error(node, $"{What}: '{key}' must be a mapping of name: value");
            return result;
        }
        foreach (var (k, v) in map.Children)
        {
            if (k is YamlScalarNode { Value: { } kk } && v is YamlScalarNode vv) result[kk] = vv.Value ?? "";
            else Error(k, $"{What}: '{key}' entries must be name: value");
        }
        return result;
    }

    /// <summary>The entries of a list under <paramref name="key"/>.</summary>
    public IEnumerable<YamlNode> Items(string key, bool required = false)
    {
        if (!_children.TryGetValue(key, out var node))
        {
            if (required) _errors.Add(new RepositoryError(Location, $"{What}: '{key}' is required"));
            return [];
        }
        if (node is YamlSequenceNode seq) return seq.Children;
        if (node is YamlScalarNode { Value: null or "" }) return [];
        Error(node, $"{What}: '{key}' must be a list");
        return [];
    }

    public static string KindOf(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "value",
    };

    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
