using System.Globalization;
using System.Text;
using Granary.Repository;

namespace Granary.Online;

/// <summary>
/// The canonical identity of one entity in the online tier: <c>&lt;project&gt;/&lt;key&gt;=&lt;value&gt;[;&lt;key&gt;=&lt;value&gt;]</c>,
/// join keys sorted ordinally, so the same entity always has the same text (the EntityGrain key, the store key).
/// </summary>
/// <remarks>
/// Projects and join keys follow the repository's name rule (letters, digits, <c>_</c>, <c>-</c>, starting with a letter or <c>_</c>). Values are the join key values as text (integers in
/// invariant culture); they must be non-empty and may not contain <c>;</c>, <c>=</c>, <c>{</c>, <c>}</c> or control
/// characters, so that the text parses back unambiguously and stays one Redis hash tag.
/// </remarks>
public sealed class EntityKey : IEquatable<EntityKey>, IComparable<EntityKey>
{
    private EntityKey(string project, KeyValuePair<string, string>[] joinKeys, string canonical)
    {
        Project = project;
        JoinKeys = joinKeys;
        Canonical = canonical;
    }

    /// <summary>The project the entity belongs to.</summary>
    public string Project { get; }

    /// <summary>The join keys and their text values, sorted by join key (ordinal).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> JoinKeys { get; }

    /// <summary>The canonical text, e.g. <c>rides/driver_id=1001;region=eu</c>.</summary>
    public string Canonical { get; }

    /// <summary>Builds a key from a project and join key values (any order; sorted here).</summary>
    /// <exception cref="InvalidEntityKeyException">A project, join key or value breaks the rules above, or a join key repeats.</exception>
    public static EntityKey Create(string project, IEnumerable<KeyValuePair<string, string>> joinKeys)
    {
        ArgumentNullException.ThrowIfNull(joinKeys);
        CheckProject(project, project);
        var sorted = joinKeys.ToArray();
        if (sorted.Length == 0)
            throw new InvalidEntityKeyException($"entity key for project '{project}' has no join keys",
                "give at least one join key and value, e.g. driver_id=1001");
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder(project.Length + 16 * sorted.Length).Append(project).Append('/');
        for (var i = 0; i < sorted.Length; i++)
        {
            var (key, value) = (sorted[i].Key, sorted[i].Value);
            CheckJoinKey(key, project);
            CheckValue(key, value, project);
            if (i > 0 && sorted[i - 1].Key == key)
                throw new InvalidEntityKeyException($"entity key for project '{project}' names join key '{key}' twice",
                    "give each join key once");
            if (i > 0) text.Append(';');
            text.Append(key).Append('=').Append(value);
        }
        return new EntityKey(project, sorted, text.ToString());
    }

    /// <summary>Builds a key from one join key and value.</summary>
    public static EntityKey Create(string project, string joinKey, string value) => Create(project, [new(joinKey, value)]);

    /// <summary>Builds a key from typed join key values: integers and text as themselves, booleans as <c>true</c>/<c>false</c>.</summary>
    public static EntityKey FromValues(string project, IEnumerable<KeyValuePair<string, object>> joinKeys)
        => Create(project, joinKeys.Select(kv => new KeyValuePair<string, string>(kv.Key, FormatValue(kv.Key, kv.Value))));

    /// <summary>The text form of a typed join key value, as used in entity keys.</summary>
    /// <exception cref="InvalidEntityKeyException">The value's type cannot be a join key (floats, bytes, lists, null).</exception>
    public static string FormatValue(string joinKey, object? value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => throw new InvalidEntityKeyException(
            $"join key '{joinKey}' has value {Describe(value)}, which cannot be part of an entity key",
            "join key values must be Int64, Int32, String or Bool"),
    };

    /// <summary>Parses a canonical key. Join keys given out of order are accepted and sorted.</summary>
    /// <exception cref="InvalidEntityKeyException">The text is not <c>&lt;project&gt;/&lt;key&gt;=&lt;value&gt;[;...]</c>.</exception>
    public static EntityKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/');
        if (slash <= 0)
            throw new InvalidEntityKeyException($"entity key '{text}' has no project",
                "write <project>/<join key>=<value>[;<join key>=<value>], e.g. rides/driver_id=1001");
        var project = text[..slash];
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var part in text[(slash + 1)..].Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq < 0)
                throw new InvalidEntityKeyException($"entity key '{text}': '{part}' is not <join key>=<value>",
                    "separate join keys with ';' and give each a value, e.g. rides/driver_id=1001;region=eu");
            pairs.Add(new(part[..eq], part[(eq + 1)..]));
        }
        return Create(project, pairs);
    }

    /// <summary>Parses a canonical key; false (and null) when it is not valid.</summary>
    public static bool TryParse(string? text, out EntityKey? key)
    {
        key = null;
        if (text is null) return false;
        try { key = Parse(text); return true; }
        catch (InvalidEntityKeyException) { return false; }
    }

    /// <summary>The value of <paramref name="joinKey"/>; null when the key has no such join key.</summary>
    public string? ValueOf(string joinKey)
    {
        foreach (var kv in JoinKeys) if (kv.Key == joinKey) return kv.Value;
        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => Canonical;
    /// <inheritdoc/>
    public bool Equals(EntityKey? other) => other is not null && other.Canonical == Canonical;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EntityKey k && Equals(k);
    /// <inheritdoc/>
    public override int GetHashCode() => Canonical.GetHashCode(StringComparison.Ordinal);
    /// <inheritdoc/>
    public int CompareTo(EntityKey? other) => other is null ? 1 : string.CompareOrdinal(Canonical, other.Canonical);

    private static void CheckProject(string? project, string? shown)
    {
        if (string.IsNullOrEmpty(project) || !FeatureRepositoryLoader.IsValidName(project))
            throw new InvalidEntityKeyException($"entity key project '{shown}' is not a valid project name",
                "a project name is letters, digits, '_' and '-', starting with a letter or '_'");
    }

    private static void CheckJoinKey(string? key, string project)
    {
        if (string.IsNullOrEmpty(key) || !FeatureRepositoryLoader.IsValidName(key))
            throw new InvalidEntityKeyException($"entity key for project '{project}': join key '{key}' is not a valid name",
                "a join key is letters, digits, '_' and '-', starting with a letter or '_' (e.g. driver_id)");
    }

    private static void CheckValue(string key, string? value, string project)
    {
        if (string.IsNullOrEmpty(value))
            throw new InvalidEntityKeyException($"entity key for project '{project}': join key '{key}' has an empty value",
                "give every join key a value, e.g. driver_id=1001");
        foreach (var c in value)
        {
            if (c is ';' or '=' or '{' or '}' || char.IsControl(c))
                throw new InvalidEntityKeyException(
                    $"entity key for project '{project}': value '{value}' of join key '{key}' contains {Describe(c)}",
                    "join key values may not contain ';', '=', '{', '}' or control characters");
        }
    }

    private static string Describe(char c) => char.IsControl(c) ? $"control character U+{(int)c:X4}" : $"'{c}'";
    private static string Describe(object? value) => value is null ? "null" : $"'{value}' ({value.GetType().Name})";
}

/// <summary>An entity key that is malformed: the message names the offending text and the rule it breaks.</summary>
public sealed class InvalidEntityKeyException(string message, string? hint = null) : GranaryException(message, hint);
