using Granary.Offline;
using Granary.Online;
using Granary.Serving;

namespace Granary.Observability;

/// <summary>
/// Records what an online read served into <see cref="GranaryMetrics"/>: values per view and Feast status, found values
/// older than the view's freshness SLA, values served from a grain's cache while the online store was unreachable, the
/// newest event timestamp per view, and the view's SLA.
/// </summary>
public static class OnlineReadMetrics
{
    /// <summary>Records <paramref name="response"/>, the answer to <paramref name="plan"/>, as served at <paramref name="now"/>.</summary>
    public static void Record(HistoricalRetrievalPlan plan, OnlineFeaturesResponse response, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(response);
        Dictionary<string, OnlineFeatureColumn>? columns = null;
        foreach (var view in plan.Views)
        {
            // Stale by the same rule the entity grain applies (OnlineReadRules), here with the gateway's clock.
            var sla = OnlineReadRules.FreshnessSlaOf(view.View);
            long present = 0, nulls = 0, notFound = 0, outside = 0, stale = 0, fromCache = 0;
            DateTimeOffset? newest = null;
            foreach (var feature in view.Features)
            {
                if (!feature.IsOutput) continue;
                columns ??= Index(response);
                if (!columns.TryGetValue(feature.ColumnName, out var column)) continue;
                for (var r = 0; r < column.Statuses.Length; r++)
                {
                    var status = column.Statuses[r];
                    if (column.IsServedFromCache(r)) fromCache++;
                    switch (status)
                    {
                        case FeatureStatus.Present: present++; break;
                        case FeatureStatus.NullValue: nulls++; break;
                        case FeatureStatus.NotFound: notFound++; break;
                        case FeatureStatus.OutsideMaxAge: outside++; break;
                    }
                    if (column.EventTimestamps[r] is not { } at) continue;
                    if (newest is null || at > newest) newest = at;
                    if (status != FeatureStatus.NotFound && sla is { } limit && now - at > limit) stale++;
                }
            }
            var name = view.View.Name;
            GranaryMetrics.RecordFeatureValues(name, OnlineFeaturesJson.StatusName(FeatureStatus.Present), present);
            GranaryMetrics.RecordFeatureValues(name, OnlineFeaturesJson.StatusName(FeatureStatus.NullValue), nulls);
            GranaryMetrics.RecordFeatureValues(name, OnlineFeaturesJson.StatusName(FeatureStatus.NotFound), notFound);
            GranaryMetrics.RecordFeatureValues(name, OnlineFeaturesJson.StatusName(FeatureStatus.OutsideMaxAge), outside);
            GranaryMetrics.RecordServedFromCache(name, fromCache);
            GranaryMetrics.RecordServed(name, stale, newest, sla);
        }
    }

    private static Dictionary<string, OnlineFeatureColumn> Index(OnlineFeaturesResponse response)
    {
        var columns = new Dictionary<string, OnlineFeatureColumn>(response.FeatureNames.Count, StringComparer.Ordinal);
        for (var i = 0; i < response.FeatureNames.Count; i++) columns.TryAdd(response.FeatureNames[i], response.Results[i]);
        return columns;
    }
}
