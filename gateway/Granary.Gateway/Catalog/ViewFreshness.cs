using Granary.Definitions;
using Granary.Online;

namespace Granary.Gateway.Catalog;

/// <summary>Where a feature view stands against its freshness SLA.</summary>
public enum FreshnessState
{
    /// <summary>Materialized, and the age is within the SLA.</summary>
    Fresh,
    /// <summary>Materialized, and the age is over the SLA: online values are older than the models expect.</summary>
    Stale,
    /// <summary>Materialized, but the view declares no SLA, so nothing is over it.</summary>
    NoSla,
    /// <summary>No materialization interval recorded yet.</summary>
    NeverMaterialized,
}

/// <summary>A view's freshness: its state, age and SLA, and the time the age is measured from.</summary>
/// <param name="State">Fresh, stale, no SLA, or never materialized.</param>
/// <param name="Age">now - <paramref name="FreshAsOf"/>; null when never materialized.</param>
/// <param name="Sla">The view's freshness SLA, if any.</param>
/// <param name="FreshAsOf">The end of the newest materialization interval (the latest event time the online store is known to cover).</param>
public sealed record ViewFreshnessReport(FreshnessState State, TimeSpan? Age, TimeSpan? Sla, DateTimeOffset? FreshAsOf)
{
    /// <summary>True when the view is over its SLA.</summary>
    public bool IsStale => State == FreshnessState.Stale;
}

/// <summary>
/// The catalog's freshness rule: a view is as fresh as the end of its newest materialization interval (the registry's
/// record of windows written online), and stale when now minus that end is over its SLA (<see cref="SlaOf"/>).
/// </summary>
/// <remarks>
/// The interval's end, not the newest event time in the online store: it is known without scanning the store, and it is
/// what a stalled schedule stops moving (a quiet source with no new events is still "materialized up to" the last run).
/// Rows pushed straight to the online store record no interval, so a push-fed view shows the last materialization of its
/// batch source, or "never materialized".
/// </remarks>
public static class ViewFreshness
{
    /// <summary>Evaluates <paramref name="view"/> with its recorded <paramref name="intervals"/> at <paramref name="now"/>.</summary>
    public static ViewFreshnessReport Evaluate(FeatureView view, IReadOnlyList<MaterializationInterval>? intervals, DateTimeOffset now)
    {
        var sla = SlaOf(view);
        if (intervals is null || intervals.Count == 0) return new(FreshnessState.NeverMaterialized, null, sla, null);
        var freshAsOf = intervals.Max(i => i.End);
        var age = now - freshAsOf;
        if (age < TimeSpan.Zero) age = TimeSpan.Zero; // a window ending in the future covers now
        var state = sla is null ? FreshnessState.NoSla : age > sla ? FreshnessState.Stale : FreshnessState.Fresh;
        return new(state, age, sla, freshAsOf);
    }

    /// <summary>
    /// The view's SLA as the online read path takes it (<see cref="OnlineReadRules.FreshnessSlaOf"/>: the
    /// <c>freshness_sla</c> field, else the <c>sla_freshness_minutes</c> tag); a malformed tag counts as none here, so one
    /// bad tag does not take the catalog down (online reads of that view refuse it with its message).
    /// </summary>
    public static TimeSpan? SlaOf(FeatureView view)
    {
        try
        {
            return OnlineReadRules.FreshnessSlaOf(view);
        }
        catch (OnlineRowSchemaException)
        {
            return null;
        }
    }

    /// <summary>The state as the API writes it: <c>fresh</c>, <c>stale</c>, <c>no_sla</c>, <c>never_materialized</c>.</summary>
    public static string Name(FreshnessState state) => state switch
    {
        FreshnessState.Fresh => "fresh",
        FreshnessState.Stale => "stale",
        FreshnessState.NoSla => "no_sla",
        _ => "never_materialized",
    };
}
