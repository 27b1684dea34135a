using System.Globalization;
using Granary.Definitions;
using Granary.Offline;
using Granary.Online;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Erasure;

/// <summary>One view an erasure removes the entity from: where its rows are and whether Granary wrote them.</summary>
/// <param name="View">The feature view.</param>
/// <param name="BatchSource">The view's batch source (a push source's batch source for pushed views).</param>
/// <param name="GranaryWrites">
/// Whether Granary appends to <paramref name="BatchSource"/> (it is the batch source of a push source): then its rows of the
/// entity are deleted; otherwise the source is someone else's and is listed for erasure upstream.
/// </param>
/// <param name="StoredKey">The entity's join key values by the batch source's stored column names (field mapping applied).</param>
public sealed record ErasureTarget(FeatureView View, DataSource BatchSource, bool GranaryWrites, IReadOnlyList<KeyValuePair<string, object>> StoredKey);

/// <summary>
/// What an erasure request means against a registry version: one entity key (its join keys typed by their entities) and
/// the views keyed by exactly those join keys (all of them, or the ones named). Pure: no I/O. Bad input throws
/// <see cref="ErasureRequestException"/> naming the value and what to do.
/// </summary>
public sealed class ErasurePlan
{
    private ErasurePlan(EntityKey entity, IReadOnlyList<KeyValuePair<string, object>> key, IReadOnlyList<ErasureTarget> targets)
    {
        Entity = entity;
        Key = key;
        Targets = targets;
    }

    /// <summary>The entity's canonical key.</summary>
    public EntityKey Entity { get; }

    /// <summary>The join keys and their typed values, by definition name.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Key { get; }

    /// <summary>The views to erase the entity from.</summary>
    public IReadOnlyList<ErasureTarget> Targets { get; }

    /// <summary>
    /// Plans the erasure of the entity <paramref name="joinKeys"/> (join key, value as text) from <paramref name="views"/>
    /// (none: every feature view keyed by exactly these join keys).
    /// </summary>
    public static ErasurePlan For(RegistrySnapshot snapshot, IReadOnlyList<KeyValuePair<string, string>> joinKeys, IReadOnlyList<string> views)
    {
        if (joinKeys.Count == 0)
            throw new ErasureRequestException("the erasure names no entity", "give the entity's join keys and values, e.g. --entity driver_id=1001");
        var typed = new List<KeyValuePair<string, object>>(joinKeys.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (joinKey, text) in joinKeys)
        {
            if (!seen.Add(joinKey))
                throw new ErasureRequestException($"join key '{joinKey}' is given twice", "give each join key of the entity once; erase another entity with another request");
            var entity = snapshot.Entities.FirstOrDefault(e => e.JoinKey == joinKey)
                ?? throw new ErasureRequestException($"'{joinKey}' is not a join key of project '{snapshot.Project}'; known join keys: {Known(snapshot.Entities.Select(e => e.JoinKey))}",
                    "name the entity by a join key of the project, e.g. --entity <join key>=<value>");
            typed.Add(new(joinKey, Parse(joinKey, text, entity)));
        }
        var entityKey = EntityKey.FromValues(snapshot.Project, typed);

        var chosen = new List<FeatureView>();
        if (views.Count == 0)
        {
            chosen.AddRange(snapshot.FeatureViews.Where(v => SameKeys(JoinKeysOf(snapshot, v), seen)));
            if (chosen.Count == 0)
                throw new ErasureRequestException(
                    $"no feature view of project '{snapshot.Project}' is keyed by exactly {string.Join(", ", seen.Order(StringComparer.Ordinal))}; views and their join keys: " +
                    Known(snapshot.FeatureViews.Select(v => $"{v.Name} ({string.Join(", ", JoinKeysOf(snapshot, v))})")),
                    "give every join key of the views to erase (one --entity per join key)");
        }
        else
        {
            foreach (var name in views.Distinct(StringComparer.Ordinal))
            {
                var view = snapshot.FindFeatureView(name)
                    ?? throw new ErasureRequestException($"'{name}' is not a feature view of project '{snapshot.Project}'; known: {Known(snapshot.FeatureViews.Select(v => v.Name))}",
                        "name feature views of the project in --views, or leave --views out to erase every view keyed by the entity");
                var keys = JoinKeysOf(snapshot, view);
                if (!SameKeys(keys, seen))
                    throw new ErasureRequestException(
                        $"feature view '{name}' is keyed by {string.Join(", ", keys)}, but the erasure names {string.Join(", ", seen.Order(StringComparer.Ordinal))}",
                        "give exactly the view's join keys, or leave the view out");
                chosen.Add(view);
            }
        }

        var written = snapshot.DataSources.OfType<PushSource>().Select(p => p.BatchSource).ToHashSet(StringComparer.Ordinal);
        var targets = chosen.Select(view =>
        {
            var batch = OfflineSources.ResolveBatchSource(snapshot, view);
            var stored = typed.Select(k => new KeyValuePair<string, object>(OfflineSources.StoredColumn(batch, k.Key), k.Value)).ToList();
            return new ErasureTarget(view, batch, written.Contains(batch.Name), stored);
        }).ToList();
        return new ErasurePlan(entityKey, typed, targets);
    }

    /// <summary>Parses <c>join_key=value</c> (the CLI's <c>--entity</c>); throws naming the text when it is not that shape.</summary>
    public static KeyValuePair<string, string> ParsePair(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0 || eq == text.Length - 1)
            throw new ErasureRequestException($"--entity '{text}' is not <join key>=<value>", "write the join key, '=' and the value, e.g. --entity driver_id=1001");
        return new(text[..eq].Trim(), text[(eq + 1)..].Trim());
    }

    /// <summary>The join keys of <paramref name="view"/>, in its entities' order.</summary>
    public static IReadOnlyList<string> JoinKeysOf(RegistrySnapshot snapshot, FeatureView view)
        => view.Entities.Select(e => snapshot.FindEntity(e)?.JoinKey ?? e).ToList();

    private static bool SameKeys(IReadOnlyList<string> keys, HashSet<string> given) => keys.Count == given.Count && keys.All(given.Contains);

    // Join key values are typed by their entity, parsed exactly (never guessed), so the key matches what pushes and
    // materialization stored (e.g. "0042" for an Int64 key is the entity 42).
    private static object Parse(string joinKey, string text, Entity entity)
    {
        var type = entity.ValueType;
        object? value = (type.IsList, type.Scalar) switch
        {
            (false, ScalarType.Int64) => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            (false, ScalarType.Int32) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i : null,
            (false, ScalarType.String) => text.Length > 0 ? text : null,
            (false, ScalarType.Bool) => bool.TryParse(text, out var b) ? b : null,
            _ => throw new ErasureRequestException($"join key '{joinKey}' of entity '{entity.Name}' has type {type.ToString()}, which cannot key an entity",
                "join keys are Int64, Int32, String or Bool"),
        };
        return value ?? throw new ErasureRequestException(
            $"value '{text}' of join key '{joinKey}' is not of type {type} (the type of entity '{entity.Name}')",
            $"give the value as the entity stores it, e.g. {joinKey}={Example(type)}");
    }

    private static string Example(ValueType type) => type.Scalar switch
    {
        ScalarType.String => "abc",
        ScalarType.Bool => "true",
        _ => "1001",
    };

    private static string Known(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "(none)" : string.Join(", ", list);
    }
}

/// <summary>An erasure request that does not fit the registry (unknown view or join key, a value of the wrong type); the message names it.</summary>
public sealed class ErasureRequestException(string message, string? hint = null) : GranaryException(message, hint);
