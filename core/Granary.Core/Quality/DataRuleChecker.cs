using System.Globalization;
using System.Text.RegularExpressions;
using Granary.Definitions;

namespace Granary.Quality;

/// <summary>
/// The data rules of one feature view, compiled once (allowed-value sets parsed to the feature's type, patterns to
/// non-backtracking regular expressions) and checked row by row on every write path: push, stream ingestion (through
/// push) and materialization. Pure and allocation-free per row: the caller passes the row's values and a span to
/// receive the indexes of the rules it breaks.
/// </summary>
public sealed class DataRuleChecker
{
    private readonly Compiled[] _rules;

    private DataRuleChecker(string view, Compiled[] rules)
    {
        View = view;
        _rules = rules;
    }

    /// <summary>The feature view.</summary>
    public string View { get; }

    /// <summary>How many rules the view has (over all its features).</summary>
    public int RuleCount => _rules.Length;

    /// <summary>True when the view has no rules.</summary>
    public bool IsEmpty => _rules.Length == 0;

    /// <summary>Compiles the rules of <paramref name="view"/>; rule <c>i</c> is numbered in feature order, then rule order.</summary>
    /// <exception cref="ArgumentException">A rule does not fit its feature (the validator refuses such definitions at apply).</exception>
    public static DataRuleChecker For(FeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var rules = new List<Compiled>();
        for (var f = 0; f < view.Features.Count; f++)
        {
            var field = view.Features[f];
            foreach (var rule in field.Rules)
            {
                if (DataRuleValidation.Problem(field, rule) is { } problem)
                    throw new ArgumentException($"feature view '{view.Name}': {problem}", nameof(view));
                rules.Add(Compile(field, f, rule));
            }
        }
        return new DataRuleChecker(view.Name, [.. rules]);
    }

    /// <summary>The rule's name as metrics and messages show it: <c>&lt;feature&gt;.&lt;check&gt;</c>, e.g. <c>amount.min</c>.</summary>
    public string NameOf(int rule) => _rules[rule].Name;

    /// <summary>The feature the rule checks.</summary>
    public string FeatureOf(int rule) => _rules[rule].Feature;

    /// <summary>The position of the rule's feature in the view's features.</summary>
    public int FeatureIndexOf(int rule) => _rules[rule].FeatureIndex;

    /// <summary>What a row breaking the rule gets.</summary>
    public DataRuleOutcome OutcomeOf(int rule) => _rules[rule].Rule.OnBreak;

    /// <summary>The rule as declared.</summary>
    public DataRule RuleOf(int rule) => _rules[rule].Rule;

    /// <summary>What the rule asks for, for messages: <c>min 0</c>, <c>not_null</c>, <c>allowed [card, cash]</c>.</summary>
    public string Describe(int rule) => DataRuleValidation.Describe(_rules[rule].Rule);

    /// <summary>
    /// Checks one row. Feature <c>i</c> of the view is <c>values[columns[i]]</c>, typed as the schema declares (null for a
    /// missing value). Writes the indexes of the broken rules, in rule order, to <paramref name="broken"/> (at least
    /// <see cref="RuleCount"/> long) and returns how many there are.
    /// </summary>
    public int Check(ReadOnlySpan<object?> values, ReadOnlySpan<int> columns, Span<int> broken)
    {
        var count = 0;
        for (var r = 0; r < _rules.Length; r++)
            if (!_rules[r].Holds(values[columns[_rules[r].FeatureIndex]])) broken[count++] = r;
        return count;
    }

    /// <summary>The strictest outcome among <paramref name="broken"/> rules; null when none is broken.</summary>
    public DataRuleOutcome? Strictest(ReadOnlySpan<int> broken)
    {
        DataRuleOutcome? result = null;
        foreach (var r in broken)
            if (result is null || _rules[r].Rule.OnBreak > result) result = _rules[r].Rule.OnBreak;
        return result;
    }

    /// <summary>The first of <paramref name="broken"/> whose outcome is <paramref name="outcome"/>; -1 when none.</summary>
    public int FirstWith(ReadOnlySpan<int> broken, DataRuleOutcome outcome)
    {
        foreach (var r in broken)
            if (_rules[r].Rule.OnBreak == outcome) return r;
        return -1;
    }

    private static Compiled Compile(Field field, int index, DataRule rule)
    {
        var name = $"{field.Name}.{rule.Key}";
        switch (rule.Check)
        {
            case DataRuleCheck.Allowed:
                var allowed = new HashSet<object>();
                foreach (var text in rule.Allowed) allowed.Add(DataRuleValidation.ParseAllowed(field.Type.Scalar, text)!);
                return new Compiled(name, field.Name, index, rule, allowed, null);
            case DataRuleCheck.Pattern:
                return new Compiled(name, field.Name, index, rule, null, DataRuleValidation.CompilePattern(rule.Pattern!));
            default:
                return new Compiled(name, field.Name, index, rule, null, null);
        }
    }

    /// <summary>
    /// A compiled rule. Numbers compare as double (every Int32/Int64 bound a YAML file can hold compares exactly enough for
    /// a range check; allowed integers compare exactly, as long). NaN breaks min and max.
    /// </summary>
    private sealed record Compiled(string Name, string Feature, int FeatureIndex, DataRule Rule, HashSet<object>? Allowed, Regex? Pattern)
    {
        public bool Holds(object? value)
        {
            if (value is null) return Rule.Check != DataRuleCheck.NotNull;
            switch (Rule.Check)
            {
                case DataRuleCheck.NotNull:
                    return true;
                case DataRuleCheck.Min:
                    return AsDouble(value) is { } low && low >= Rule.Bound!.Value;
                case DataRuleCheck.Max:
                    return AsDouble(value) is { } high && high <= Rule.Bound!.Value;
                case DataRuleCheck.Allowed:
                    return Allowed!.Contains(Normalize(value));
                default:
                    return value is string s && Pattern!.IsMatch(s);
            }
        }

        private static double? AsDouble(object value) => value switch
        {
            double d => double.IsNaN(d) ? null : d,
            float f => float.IsNaN(f) ? null : f,
            long l => l,
            int i => i,
            short s => s,
            decimal m => (double)m,
            _ => null,
        };

        // The allowed set holds long, double, string or bool: values of narrower CLR types are widened to match.
        private static object Normalize(object value) => value switch
        {
            int i => (long)i,
            short s => (long)s,
            float f => (double)f,
            decimal m => (double)m,
            _ => value,
        };
    }
}

/// <summary>Whether a data rule fits its field, and the parsed forms of its values; the validator and the checker share it.</summary>
public static class DataRuleValidation
{
    /// <summary>Patterns run without backtracking, so no value can make a check slow.</summary>
    public const RegexOptions PatternOptions = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    /// <summary>Why <paramref name="rule"/> does not fit <paramref name="field"/>, with the fix; null when it fits.</summary>
    public static string? Problem(Field field, DataRule rule)
    {
        var what = $"field '{field.Name}' ({field.Type})";
        if (field.Type.IsList && rule.Check != DataRuleCheck.NotNull)
            return $"{what}: {rule.Key} applies to single values, not lists; only not_null checks a list field";
        switch (rule.Check)
        {
            case DataRuleCheck.Min or DataRuleCheck.Max:
                if (field.Type.Scalar is not (ScalarType.Int32 or ScalarType.Int64 or ScalarType.Float32 or ScalarType.Float64))
                    return $"{what}: {rule.Key} needs a number field (Int32, Int64, Float32, Float64); remove {rule.Key} or use allowed/pattern";
                if (rule.Bound is not { } bound || !double.IsFinite(bound))
                    return $"{what}: {rule.Key} has no finite bound; give a number, e.g. {rule.Key}: 0";
                return null;
            case DataRuleCheck.Pattern:
                if (field.Type.Scalar != ScalarType.String)
                    return $"{what}: pattern needs a String field; use min/max or allowed for {field.Type.Scalar}";
                if (string.IsNullOrEmpty(rule.Pattern)) return $"{what}: pattern is empty; give a regular expression";
                try
                {
                    CompilePattern(rule.Pattern);
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException)
                {
                    return $"{what}: pattern '{rule.Pattern}' is not a usable regular expression ({e.Message}); backreferences and lookarounds are not supported";
                }
                return null;
            case DataRuleCheck.Allowed:
                if (field.Type.Scalar is ScalarType.Bytes or ScalarType.UnixTimestamp)
                    return $"{what}: allowed values are not supported on {field.Type.Scalar}; use not_null, or min/max on a number";
                if (rule.Allowed.Count == 0) return $"{what}: allowed lists no value; give at least one, e.g. allowed: [a, b]";
                foreach (var text in rule.Allowed)
                    if (ParseAllowed(field.Type.Scalar, text) is null)
                        return $"{what}: allowed value '{text}' is not a {field.Type.Scalar}; write it as the field's type";
                return null;
            default:
                return null;
        }
    }

    /// <summary>Why a quality gate is invalid; null when valid.</summary>
    public static string? Problem(QualityGate gate)
    {
        if (gate.Completeness is { } c && !(c >= 0 && c <= 1))
            return $"quality_gate completeness {c.ToString(CultureInfo.InvariantCulture)} is not a share; give a number from 0 to 1 (e.g. 0.95 for 95 % non-null)";
        if (!(gate.MaxRejectedShare >= 0 && gate.MaxRejectedShare <= 1))
            return $"quality_gate max_rejected_share {gate.MaxRejectedShare.ToString(CultureInfo.InvariantCulture)} is not a share; give a number from 0 to 1 (e.g. 0.01 for 1 %)";
        return null;
    }

    /// <summary>A text allowed value as the field's scalar (long for integers, double for floats, bool, string); null when it does not parse.</summary>
    public static object? ParseAllowed(ScalarType scalar, string text) => scalar switch
    {
        ScalarType.Int32 when int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) => (long)i,
        ScalarType.Int64 when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        ScalarType.Float32 when float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite(f) => (double)f,
        ScalarType.Float64 when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => d,
        ScalarType.Bool when bool.TryParse(text, out var b) => b,
        ScalarType.String => text,
        _ => null,
    };

    /// <summary>Compiles a pattern so it must match a whole value.</summary>
    public static Regex CompilePattern(string pattern) => new($"\\A(?:{pattern})\\z", PatternOptions);

    /// <summary>The rule as text: <c>not_null</c>, <c>min 0</c>, <c>allowed [card, cash]</c>, <c>pattern ^[A-Z]+$</c>.</summary>
    public static string Describe(DataRule rule) => rule.Check switch
    {
        DataRuleCheck.Min or DataRuleCheck.Max => $"{rule.Key} {rule.Bound?.ToString(CultureInfo.InvariantCulture)}",
        DataRuleCheck.Allowed => $"allowed [{string.Join(", ", rule.Allowed)}]",
        DataRuleCheck.Pattern => $"pattern {rule.Pattern}",
        _ => rule.Key,
    };
}
