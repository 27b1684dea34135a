using Granary.Observability;
using Granary.Quality;

namespace Granary.Grains.Online;

public sealed partial class MaterializationGrain
{
    /// <summary>
    /// The quality gate: when the view declares a <c>quality_gate</c> or a reject rule, every partition first counts what the
    /// rules do to the rows the run would write (writing nothing); the run fails as a whole when the share of rows breaking
    /// reject rules is over the gate's allowance or a feature's completeness is under its threshold.
    /// </summary>
    private async Task CheckQualityGateAsync(MaterializationCheckpoint state)
    {
        var view = (await registry.GetAsync(Project)).FeatureViews.FirstOrDefault(v => v.Name == View);
        if (view is null) return; // the partitions report the missing view
        var rejectRules = view.Features.Any(f => f.Rules.Any(r => r.OnBreak == Definitions.DataRuleOutcome.Reject));
        if (view.QualityGate is null && !rejectRules) return;
        var checker = PushRules.CheckerFor(view);
        var counts = await Task.WhenAll(Enumerable.Range(0, state.PartitionRows.Length)
            .Select(i => GrainFactory.GetGrain<IMaterializationPartitionGrain>($"{Key}/{state.RunId}/gate/{i}")
                .CheckAsync(Project, View, state.Start, state.End, i, state.PartitionRows.Length)));
        var tally = new DataRuleTally(checker.RuleCount, view.Features.Count);
        foreach (var c in counts) tally.Add(c.ToTally());
        var result = tally.Judge(view, time.GetUtcNow());
        state.Gate = result;
        DataRuleMetrics.RecordGate(result);
        if (result.Passed) return;
        // The write pass records the rule counts of a run that goes on; a stopped run records them here.
        DataRuleMetrics.Record(checker, tally, MaterializationPartitionGrain.QuarantineSource);
        throw new MaterializationException(
            $"quality gate of feature view '{View}' failed: {result.Reason}; nothing was written online, the values served before stay",
            "fix the source rows (see granary quarantine list and the rule counts), or the view's rules or quality_gate, and materialize again");
    }
}
