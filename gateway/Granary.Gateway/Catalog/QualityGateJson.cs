using System.Text.Json.Nodes;
using Granary.Definitions;
using Granary.Quality;

namespace Granary.Gateway.Catalog;

/// <summary>A view's data rules, quality gate and last gate result, as the catalog API writes them.</summary>
public static class QualityGateJson
{
    /// <summary>The view's <c>quality_gate</c> entry: its settings, its rules, and the last check (null when none ran).</summary>
    public static JsonObject Of(FeatureView view, QualityGateResult? last) => new()
    {
        ["completeness"] = view.QualityGate?.Completeness,
        ["max_rejected_share"] = view.QualityGate?.MaxRejectedShare ?? 0,
        ["rules"] = new JsonArray(view.Features.SelectMany(f => f.Rules.Select(r => (JsonNode)new JsonObject
        {
            ["rule"] = $"{f.Name}.{r.Key}", ["check"] = DataRuleValidation.Describe(r), ["on_break"] = DataRule.NameOf(r.OnBreak),
        })).ToArray()),
        ["last_result"] = last is null ? null : new JsonObject
        {
            ["passed"] = last.Passed, ["checked_at"] = last.CheckedAt, ["rows_read"] = last.RowsRead, ["rows_rejected"] = last.RowsRejected,
            ["rows_quarantined"] = last.RowsQuarantined, ["rows_warned"] = last.RowsWarned, ["completeness"] = last.Completeness,
            ["least_complete_feature"] = last.LeastCompleteFeature, ["reason"] = last.Reason,
        },
    };
}
