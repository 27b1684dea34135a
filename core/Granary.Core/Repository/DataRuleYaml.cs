using System.Globalization;
using Granary.Definitions;
using YamlDotNet.RepresentationModel;

namespace Granary.Repository;

/// <summary>
/// Reads the <c>rules:</c> mapping of a schema field and a feature view's <c>quality_gate:</c>. The shape is checked here
/// (file and line); whether a rule fits its field's type is <see cref="Quality.DataRuleValidation"/>'s, run by the validator.
/// </summary>
/// <example>
/// <code>
/// rules:
///   not_null: true               # or the outcome itself: not_null: warn
///   min: 0                       # short form: the outcome is on_break's
///   max: {value: 1, on_break: quarantine}
///   allowed: [card, cash]        # or {values: [...], on_break: warn}
///   pattern: "^[A-Z]{2}$"        # or {regex: ..., on_break: ...}
///   on_break: reject             # default for the short forms; default reject
/// </code>
/// </example>
internal static class DataRuleYaml
{
    /// <summary>The keys of a field's <c>rules:</c> mapping.</summary>
    public static readonly string[] RuleKeys = ["not_null", "min", "max", "allowed", "pattern", "on_break"];

    /// <summary>The keys of a view's <c>quality_gate:</c> mapping.</summary>
    public static readonly string[] GateKeys = ["completeness", "max_rejected_share"];

    /// <summary>The field's rules (empty when it has none); null with errors at their lines when the mapping does not fit.</summary>
    public static List<DataRule>? ReadRules(YamlObject field)
    {
        if (!field.Has("rules")) return [];
        if (field.Node("rules") is not YamlMappingNode map)
        {
            field.Error("rules", $"{field.What}: 'rules' must be a mapping such as rules: {{not_null: true, min: 0, on_break: reject}}");
            return null;
        }
        var o = new YamlObject(field.File, map, $"{field.What} rules", field.Errors);
        var before = o.Errors.Count;
        o.RejectUnknownKeys(RuleKeys);
        var fallback = DataRuleOutcome.Reject;
        if (o.String("on_break") is { } text && !DataRule.TryParseOutcome(text, out fallback))
            o.Error("on_break", $"{o.What}: on_break '{text}' is not an outcome; use {DataRule.OutcomeNames}");
        var rules = new List<DataRule>();
        if (o.Node("not_null") is { } notNull) ReadNotNull(o, notNull, fallback, rules);
        foreach (var (key, check) in new[] { ("min", DataRuleCheck.Min), ("max", DataRuleCheck.Max) })
            if (o.Node(key) is { } node) ReadBound(o, key, check, node, fallback, rules);
        if (o.Node("allowed") is { } allowed) ReadAllowed(o, allowed, fallback, rules);
        if (o.Node("pattern") is { } pattern) ReadPattern(o, pattern, fallback, rules);
        return o.Errors.Count > before ? null : rules;
    }

    /// <summary>The view's quality gate; null when absent or (with errors) when it does not fit.</summary>
    public static QualityGate? ReadGate(YamlObject view)
    {
        if (!view.Has("quality_gate")) return null;
        if (view.Node("quality_gate") is not YamlMappingNode map)
        {
            view.Error("quality_gate", $"{view.What}: 'quality_gate' must be a mapping such as quality_gate: {{completeness: 0.95, max_rejected_share: 0.01}}");
            return null;
        }
        var o = new YamlObject(view.File, map, $"{view.What} quality_gate", view.Errors);
        o.RejectUnknownKeys(GateKeys);
        return new QualityGate { Completeness = Share(o, "completeness"), MaxRejectedShare = Share(o, "max_rejected_share") ?? 0 };
    }

    private static double? Share(YamlObject o, string key)
    {
        if (o.String(key) is not { } text) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var share) && double.IsFinite(share)) return share;
        o.Error(key, $"{o.What}: {key} '{text}' is not a number; give a share from 0 to 1 (e.g. 0.95)");
        return null;
    }

    private static void ReadNotNull(YamlObject o, YamlNode node, DataRuleOutcome fallback, List<DataRule> rules)
    {
        var text = (node as YamlScalarNode)?.Value;
        if (bool.TryParse(text, out var on))
        {
            if (on) rules.Add(new DataRule { Check = DataRuleCheck.NotNull, OnBreak = fallback });
            return;
        }
        if (DataRule.TryParseOutcome(text, out var outcome))
        {
            rules.Add(new DataRule { Check = DataRuleCheck.NotNull, OnBreak = outcome });
            return;
        }
        o.Error(node, $"{o.What}: not_null '{text ?? YamlObject.KindOf(node)}' must be true, false or an outcome ({DataRule.OutcomeNames})");
    }

    private static void ReadBound(YamlObject o, string key, DataRuleCheck check, YamlNode node, DataRuleOutcome fallback, List<DataRule> rules)
    {
        var (valueNode, outcome) = LongForm(o, key, node, "value", fallback);
        if (valueNode is null) return;
        var text = (valueNode as YamlScalarNode)?.Value;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bound) || !double.IsFinite(bound))
        {
            o.Error(valueNode, $"{o.What}: {key} '{text ?? YamlObject.KindOf(valueNode)}' is not a number; write it like {key}: 0 or {key}: {{value: 0, on_break: quarantine}}");
            return;
        }
        rules.Add(new DataRule { Check = check, Bound = bound, OnBreak = outcome });
    }

    private static void ReadAllowed(YamlObject o, YamlNode node, DataRuleOutcome fallback, List<DataRule> rules)
    {
        var (valuesNode, outcome) = LongForm(o, "allowed", node, "values", fallback);
        if (valuesNode is null) return;
        if (valuesNode is not YamlSequenceNode seq || seq.Children.Count == 0)
        {
            o.Error(valuesNode, $"{o.What}: allowed must be a non-empty list of values, e.g. allowed: [card, cash]");
            return;
        }
        var values = new List<string>(seq.Children.Count);
        foreach (var item in seq.Children)
        {
            if (item is YamlScalarNode { Value: { } v }) values.Add(v);
            else o.Error(item, $"{o.What}: every allowed value must be a single value, not a {YamlObject.KindOf(item)}");
        }
        rules.Add(new DataRule { Check = DataRuleCheck.Allowed, Allowed = values, OnBreak = outcome });
    }

    private static void ReadPattern(YamlObject o, YamlNode node, DataRuleOutcome fallback, List<DataRule> rules)
    {
        var (regexNode, outcome) = LongForm(o, "pattern", node, "regex", fallback);
        if (regexNode is null) return;
        if (regexNode is not YamlScalarNode { Value: { Length: > 0 } regex })
        {
            o.Error(regexNode, $"{o.What}: pattern must be a regular expression in quotes, e.g. pattern: \"^[A-Z]{{2}}$\"");
            return;
        }
        rules.Add(new DataRule { Check = DataRuleCheck.Pattern, Pattern = regex, OnBreak = outcome });
    }

    /// <summary>A rule written short (<c>min: 0</c>) or long (<c>min: {value: 0, on_break: warn}</c>): its value node and outcome.</summary>
    private static (YamlNode? Value, DataRuleOutcome Outcome) LongForm(YamlObject o, string key, YamlNode node, string valueKey, DataRuleOutcome fallback)
    {
        if (node is not YamlMappingNode map) return (node, fallback);
        var rule = new YamlObject(o.File, map, $"{o.What} {key}", o.Errors);
        rule.RejectUnknownKeys(valueKey, "on_break");
        var outcome = fallback;
        if (rule.String("on_break") is { } text && !DataRule.TryParseOutcome(text, out outcome))
            rule.Error("on_break", $"{rule.What}: on_break '{text}' is not an outcome; use {DataRule.OutcomeNames}");
        var value = rule.Node(valueKey);
        if (value is null) rule.Error(node, $"{rule.What}: '{valueKey}' is required, e.g. {key}: {{{valueKey}: ..., on_break: {DataRule.NameOf(fallback)}}}");
        return (value, outcome);
    }
}
