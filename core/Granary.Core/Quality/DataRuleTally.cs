using System.Globalization;
using Granary.Definitions;

namespace Granary.Quality;

/// <summary>
/// Counts what a view's rules did to a set of rows (a push batch, a materialization partition): breaks per rule, rows per
/// outcome, and per feature the non-null values among the rows that would be written (for the completeness gate).
/// Tallies of partitions add up with <see cref="Add(DataRuleTally)"/>.
/// </summary>
public sealed class DataRuleTally
{
    /// <summary>An empty tally for <paramref name="ruleCount"/> rules and <paramref name="featureCount"/> features.</summary>
    public DataRuleTally(int ruleCount, int featureCount)
    {
        Breaks = new long[ruleCount];
        NonNull = new long[featureCount];
    }

    /// <summary>A tally from its parts (as carried between grains).</summary>
    public DataRuleTally(long rows, long rejected, long quarantined, long warned, long[] breaks, long[] nonNull)
    {
        Rows = rows;
        Rejected = rejected;
        Quarantined = quarantined;
        Warned = warned;
        Breaks = breaks;
        NonNull = nonNull;
    }

    /// <summary>Rows checked.</summary>
    public long Rows { get; private set; }
    /// <summary>Rows breaking a reject rule.</summary>
    public long Rejected { get; private set; }
    /// <summary>Rows breaking a quarantine rule and no reject rule.</summary>
    public long Quarantined { get; private set; }
    /// <summary>Rows breaking only warn rules.</summary>
    public long Warned { get; private set; }
    /// <summary>Rows breaking each rule (a row breaking two rules counts for both).</summary>
    public long[] Breaks { get; }
    /// <summary>Per feature, non-null values among the rows that would be written (not rejected, not quarantined).</summary>
    public long[] NonNull { get; }
    /// <summary>Rows that would be written.</summary>
    public long Kept => Rows - Rejected - Quarantined;

    /// <summary>Checks one row with <paramref name="checker"/>, counts it, and returns its outcome (null: it breaks no rule).</summary>
    /// <param name="checker">The view's rules.</param>
    /// <param name="values">The row's values.</param>
    /// <param name="columns">Feature <c>i</c> is <c>values[columns[i]]</c>.</param>
    /// <param name="broken">Scratch of at least <see cref="DataRuleChecker.RuleCount"/>; holds the broken rules' indexes afterwards.</param>
    /// <param name="brokenCount">How many of <paramref name="broken"/> are set.</param>
    public DataRuleOutcome? Count(DataRuleChecker checker, ReadOnlySpan<object?> values, ReadOnlySpan<int> columns, Span<int> broken, out int brokenCount)
    {
        brokenCount = checker.Check(values, columns, broken);
        var outcome = checker.Strictest(broken[..brokenCount]);
        Tally(outcome, broken[..brokenCount], values, columns);
        return outcome;
    }

    /// <summary>Counts one row already checked: its outcome and the rules it broke.</summary>
    public void Tally(DataRuleOutcome? outcome, ReadOnlySpan<int> broken, ReadOnlySpan<object?> values, ReadOnlySpan<int> columns)
    {
        Rows++;
        foreach (var r in broken) Breaks[r]++;
        switch (outcome)
        {
            case DataRuleOutcome.Reject: Rejected++; break;
            case DataRuleOutcome.Quarantine: Quarantined++; break;
            default:
                if (outcome == DataRuleOutcome.Warn) Warned++;
                for (var f = 0; f < NonNull.Length; f++)
                    if (values[columns[f]] is not null) NonNull[f]++;
                break;
        }
    }

    /// <summary>
    /// What a push refused whole leaves to count: its rows breaking reject rules and those rules' breaks; nothing of it was
    /// quarantined, warned or stored.
    /// </summary>
    public DataRuleTally OnlyRejections(DataRuleChecker checker)
    {
        var breaks = new long[Breaks.Length];
        for (var r = 0; r < breaks.Length; r++)
            if (checker.OutcomeOf(r) == DataRuleOutcome.Reject) breaks[r] = Breaks[r];
        return new DataRuleTally(Rows, Rejected, 0, 0, breaks, new long[NonNull.Length]);
    }

    /// <summary>Adds <paramref name="other"/> (of the same view) to this tally.</summary>
    public void Add(DataRuleTally other)
    {
        Rows += other.Rows;
        Rejected += other.Rejected;
        Quarantined += other.Quarantined;
        Warned += other.Warned;
        for (var i = 0; i < Breaks.Length && i < other.Breaks.Length; i++) Breaks[i] += other.Breaks[i];
        for (var i = 0; i < NonNull.Length && i < other.NonNull.Length; i++) NonNull[i] += other.NonNull[i];
    }

    /// <summary>
    /// Judges a materialization's tally against <paramref name="view"/>'s gate: it fails when the share of rows breaking
    /// reject rules exceeds <see cref="QualityGate.MaxRejectedShare"/> (default 0), or a feature's share of non-null values
    /// among the rows to write is below <see cref="QualityGate.Completeness"/>.
    /// </summary>
    public QualityGateResult Judge(FeatureView view, DateTimeOffset at)
    {
        var gate = view.QualityGate ?? new QualityGate();
        double? completeness = null;
        string? least = null;
        if (Kept > 0)
            for (var f = 0; f < NonNull.Length; f++)
            {
                var share = (double)NonNull[f] / Kept;
                if (completeness is null || share < completeness) (completeness, least) = (share, view.Features[f].Name);
            }
        string? reason = null;
        var rejectedShare = Rows == 0 ? 0 : (double)Rejected / Rows;
        if (rejectedShare > gate.MaxRejectedShare)
            reason = $"{Rejected} of {Rows} rows ({Percent(rejectedShare)}) break a reject rule; the view's quality_gate allows {Percent(gate.MaxRejectedShare)} (max_rejected_share)";
        else if (gate.Completeness is { } needed && completeness is { } had && had < needed)
            reason = $"feature '{least}' is {Percent(had)} complete (non-null) over the {Kept} rows to write; the view's quality_gate needs {Percent(needed)} (completeness)";
        return new QualityGateResult(view.Name, reason is null, Rows, Rejected, Quarantined, Warned, completeness, least, reason, at);
    }

    private static string Percent(double share) => (share * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";
}
