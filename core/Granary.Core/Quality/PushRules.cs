using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Granary.Definitions;
using Granary.Push;

namespace Granary.Quality;

/// <summary>
/// A push holding rows that break reject data rules; nothing of it was stored. <see cref="Errors"/> names, per breaking row
/// (the first <see cref="PushValidator.MaxErrors"/>), the row, the value and the rule, so the producer can fix and resend.
/// </summary>
public sealed class DataRuleViolationException : GranaryException
{
    /// <summary>A refusal of the batch for <paramref name="pushSource"/>.</summary>
    public DataRuleViolationException(string pushSource, IReadOnlyList<string> errors, int notListed = 0)
        : base($"push to '{pushSource}' rejected by data rules: {errors.Count + notListed} row{(errors.Count + notListed == 1 ? "" : "s")} break a reject rule; nothing was stored"
               + string.Concat(errors.Select(e => Environment.NewLine + "  " + e))
               + (notListed > 0 ? $"{Environment.NewLine}  ... and {notListed} more" : ""),
            "fix or drop the listed rows and push the batch again")
        => Keep("errors", errors.ToArray());

    /// <summary>Each breaking row, one line each (kept when the error crosses silos).</summary>
    public IReadOnlyList<string> Errors => Kept<string[]>("errors", []);
}

/// <summary>What the data rules of the views reading a push source did to a validated batch.</summary>
public sealed class PushRuleVerdict
{
    internal PushRuleVerdict(string pushSource, List<string>? rejections, int notListed, bool[]? quarantined, QuarantineEntry?[]? entries, bool[]? warned,
        IReadOnlyList<(DataRuleChecker Checker, DataRuleTally Tally)> tallies)
    {
        _warned = warned;
        _pushSource = pushSource;
        _rejections = rejections;
        _notListed = notListed;
        _quarantined = quarantined;
        _entries = entries;
        Tallies = tallies;
        foreach (var q in quarantined ?? []) if (q) QuarantinedCount++;
    }

    private readonly string _pushSource;
    private readonly List<string>? _rejections;
    private readonly int _notListed;
    private readonly bool[]? _quarantined;
    private readonly bool[]? _warned;
    private readonly QuarantineEntry?[]? _entries;

    /// <summary>Rows set aside by a quarantine rule.</summary>
    public int QuarantinedCount { get; }
    /// <summary>Whether row <paramref name="row"/> breaks only warn rules (it is stored and served).</summary>
    public bool IsWarned(int row) => _warned is not null && _warned[row] && !IsQuarantined(row);
    /// <summary>Per view with rules, its checker and what it counted.</summary>
    public IReadOnlyList<(DataRuleChecker Checker, DataRuleTally Tally)> Tallies { get; }

    /// <summary>Whether a row breaks a reject rule, so the push fails whole.</summary>
    public bool Rejected => _rejections is not null;

    /// <summary>Throws the rejection (each row breaking a reject rule: the row, the value, the rule) when there is one.</summary>
    /// <exception cref="DataRuleViolationException">A row breaks a reject rule; nothing of the batch may be stored.</exception>
    public void ThrowIfRejected()
    {
        if (_rejections is not null) throw new DataRuleViolationException(_pushSource, _rejections, _notListed);
    }

    /// <summary>Whether row <paramref name="row"/> is set aside.</summary>
    public bool IsQuarantined(int row) => _quarantined is not null && _quarantined[row];

    /// <summary>The quarantine entry of row <paramref name="row"/> (set aside).</summary>
    public QuarantineEntry EntryOf(int row) => _entries![row]!;
}

/// <summary>
/// Applies the data rules of every view reading a push source to a validated batch: a row breaking a reject rule of any
/// view fails the push whole (the rule, the value and the row named); a row breaking a quarantine rule of any view is set
/// aside whole (neither online nor offline); rows breaking only warn rules are stored and counted.
/// </summary>
public static class PushRules
{
    private static readonly ConditionalWeakTable<FeatureView, DataRuleChecker> Checkers = new();

    /// <summary>The compiled rules of <paramref name="view"/>, compiled once per registry version's view object.</summary>
    public static DataRuleChecker CheckerFor(FeatureView view) => Checkers.GetValue(view, DataRuleChecker.For);

    /// <summary>The name a released rule is given: <c>&lt;view&gt;/&lt;feature&gt;.&lt;check&gt;</c>.</summary>
    public static string Qualified(string view, string rule) => $"{view}/{rule}";

    /// <summary>Checks <paramref name="pushed"/> (a row breaking a reject rule makes the verdict <see cref="PushRuleVerdict.Rejected"/>).</summary>
    /// <param name="pushed">The validated batch.</param>
    /// <param name="released">Qualified rules (<see cref="Qualified"/>) not applied: a released quarantine row passes the rule that held it.</param>
    public static PushRuleVerdict Check(ValidatedPush pushed, IReadOnlyCollection<string>? released = null)
    {
        var plan = pushed.Plan;
        var tallies = new List<(DataRuleChecker, DataRuleTally)>();
        bool[]? quarantined = null;
        QuarantineEntry?[]? entries = null;
        bool[]? warned = null;
        List<string>? errors = null;
        var notListed = 0;
        foreach (var target in plan.Targets)
        {
            var checker = CheckerFor(target.View);
            if (checker.IsEmpty) continue;
            var skip = new bool[checker.RuleCount];
            var anySkipped = false;
            if (released is { Count: > 0 })
                for (var r = 0; r < checker.RuleCount; r++)
                    anySkipped |= skip[r] = released.Contains(Qualified(checker.View, checker.NameOf(r)));
            var columns = new int[target.Features.Count];
            for (var f = 0; f < columns.Length; f++) columns[f] = target.Features[f].Column;
            var tally = new DataRuleTally(checker.RuleCount, columns.Length);
            Span<int> broken = new int[checker.RuleCount];
            for (var row = 0; row < pushed.RowCount; row++)
            {
                var values = (object?[])pushed.Values[row];
                var count = checker.Check(values, columns, broken);
                if (anySkipped) count = Without(broken, count, skip);
                var outcome = checker.Strictest(broken[..count]);
                tally.Tally(outcome, broken[..count], values, columns);
                switch (outcome)
                {
                    case DataRuleOutcome.Reject:
                        var rule = checker.FirstWith(broken[..count], DataRuleOutcome.Reject);
                        errors ??= [];
                        if (errors.Count < PushValidator.MaxErrors)
                            errors.Add($"row {row + 1}: value {PushValues.Show(values[columns[checker.FeatureIndexOf(rule)]])} of '{checker.FeatureOf(rule)}' breaks rule " +
                                       $"{checker.NameOf(rule)} ({checker.Describe(rule)}, reject) of feature view '{checker.View}'");
                        else notListed++;
                        break;
                    case DataRuleOutcome.Quarantine when quarantined is null || !quarantined[row]:
                        quarantined ??= new bool[pushed.RowCount];
                        entries ??= new QuarantineEntry?[pushed.RowCount];
                        quarantined[row] = true;
                        entries[row] = new QuarantineEntry(checker.View, checker.NameOf(checker.FirstWith(broken[..count], DataRuleOutcome.Quarantine)),
                            plan.Source.Name, RowJson(plan, values));
                        break;
                    case DataRuleOutcome.Warn:
                        (warned ??= new bool[pushed.RowCount])[row] = true;
                        break;
                }
            }
            tallies.Add((checker, tally));
        }
        return new PushRuleVerdict(plan.Source.Name, errors, notListed, quarantined, entries, warned, tallies);
    }

    private static int Without(Span<int> broken, int count, bool[] skip)
    {
        var kept = 0;
        for (var i = 0; i < count; i++)
            if (!skip[broken[i]]) broken[kept++] = broken[i];
        return kept;
    }

    /// <summary>
    /// A pushed row as JSON: push-source column to the value's text in the form a push parses back (numbers invariant,
    /// timestamps ISO 8601, bytes base64, lists a JSON array), so a release pushes it as it was.
    /// </summary>
    public static string RowJson(PushPlan plan, object?[] values)
    {
        var row = new Dictionary<string, string?>(values.Length, StringComparer.Ordinal);
        for (var c = 0; c < plan.Columns.Count; c++) row[plan.Columns[c].Name] = Text(values[c]);
        return JsonSerializer.Serialize(row);
    }

    /// <summary>A typed value as push text; null stays null.</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        DateTimeOffset t => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffK", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        Array list => JsonSerializer.Serialize((object)list),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
