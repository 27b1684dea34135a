using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Granary.Definitions;
using Granary.Quality;

namespace Granary.Observability;

/// <summary>
/// The data-rule series on the <c>Granary</c> meter: rule breaks per view, rule and outcome; rows per view, outcome and
/// write path; materialization quality-gate failures and the last gate result per view. Counters are observable totals,
/// like <see cref="GranaryMetrics"/>'s, so a rare series is never expired between scrapes.
/// </summary>
public static class DataRuleMetrics
{
    /// <summary>The write path label: <c>push</c> (REST, gRPC, SDK, stream ingestion) or <c>materialization</c>.</summary>
    public const string PathLabel = "path";
    /// <summary>The rule label: <c>&lt;feature&gt;.&lt;check&gt;</c>.</summary>
    public const string RuleLabel = "rule";
    /// <summary>The outcome label: <c>reject</c>, <c>quarantine</c> or <c>warn</c>.</summary>
    public const string OutcomeLabel = "outcome";

    private static readonly ConcurrentDictionary<(string View, string Rule, string Outcome, string Path), StrongBox<long>> BreakTotals = new();
    private static readonly ConcurrentDictionary<(string View, string Outcome, string Path), StrongBox<long>> RowTotals = new();
    private static readonly ConcurrentDictionary<string, StrongBox<long>> GateFailureTotals = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, QualityGateResult> LastGates = new(StringComparer.Ordinal);

    static DataRuleMetrics()
    {
        GranaryMetrics.Meter.CreateObservableCounter("data_rule_breaks_total", ObserveBreaks, null,
            "Rows breaking a data rule, by feature view, rule (<feature>.<check>), the rule's outcome and write path.");
        GranaryMetrics.Meter.CreateObservableCounter("data_rule_rows_total", ObserveRows, null,
            "Rows that broke data rules, by feature view, what they got (the strictest outcome: reject, quarantine, warn) and write path.");
        GranaryMetrics.Meter.CreateObservableCounter("data_rule_gate_failures_total", ObserveGateFailures, null,
            "Materialization runs failed by the view's quality gate, by feature view.");
        GranaryMetrics.Meter.CreateObservableGauge("data_rule_gate_passed", ObserveGatePassed, null,
            "1 when the last quality-gate check of a view's materialization on this process passed, 0 when it failed.");
    }

    /// <summary>Records what the rules of <paramref name="checker"/>'s view did on <paramref name="path"/>.</summary>
    public static void Record(DataRuleChecker checker, DataRuleTally tally, string path)
    {
        for (var r = 0; r < checker.RuleCount; r++)
        {
            // Zero is recorded too, so every rule's series exists from the first checked row on (an alert can rate() it).
            var total = BreakTotals.GetOrAdd((checker.View, checker.NameOf(r), DataRule.NameOf(checker.OutcomeOf(r)), path), static _ => new StrongBox<long>());
            Interlocked.Add(ref total.Value, tally.Breaks[r]);
        }
        AddRows(checker.View, DataRuleOutcome.Reject, path, tally.Rejected);
        AddRows(checker.View, DataRuleOutcome.Quarantine, path, tally.Quarantined);
        AddRows(checker.View, DataRuleOutcome.Warn, path, tally.Warned);
    }

    /// <summary>Records a materialization's gate check.</summary>
    public static void RecordGate(QualityGateResult result)
    {
        LastGates[result.FeatureView] = result;
        var failures = GateFailureTotals.GetOrAdd(result.FeatureView, static _ => new StrongBox<long>());
        if (!result.Passed) Interlocked.Increment(ref failures.Value);
    }

    private static void AddRows(string view, DataRuleOutcome outcome, string path, long count)
    {
        var total = RowTotals.GetOrAdd((view, DataRule.NameOf(outcome), path), static _ => new StrongBox<long>());
        Interlocked.Add(ref total.Value, count);
    }

    private static IEnumerable<Measurement<long>> ObserveBreaks()
    {
        foreach (var ((view, rule, outcome, path), total) in BreakTotals)
            yield return new Measurement<long>(Interlocked.Read(ref total.Value),
                new(GranaryMetrics.Labels.FeatureView, view), new(RuleLabel, rule), new(OutcomeLabel, outcome), new(PathLabel, path));
    }

    private static IEnumerable<Measurement<long>> ObserveRows()
    {
        foreach (var ((view, outcome, path), total) in RowTotals)
            yield return new Measurement<long>(Interlocked.Read(ref total.Value),
                new(GranaryMetrics.Labels.FeatureView, view), new(OutcomeLabel, outcome), new(PathLabel, path));
    }

    private static IEnumerable<Measurement<long>> ObserveGateFailures()
    {
        foreach (var (view, total) in GateFailureTotals)
            yield return new Measurement<long>(Interlocked.Read(ref total.Value), new KeyValuePair<string, object?>(GranaryMetrics.Labels.FeatureView, view));
    }

    private static IEnumerable<Measurement<int>> ObserveGatePassed()
    {
        foreach (var (view, result) in LastGates)
            yield return new Measurement<int>(result.Passed ? 1 : 0, new KeyValuePair<string, object?>(GranaryMetrics.Labels.FeatureView, view));
    }
}
