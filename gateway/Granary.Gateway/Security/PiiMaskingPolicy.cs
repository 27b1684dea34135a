using System.Security.Claims;
using System.Text.Json.Nodes;
using Granary.Core.Security;
using Granary.Definitions;
using Granary.FeatureHealth;
using Granary.Offline;
using Granary.Online;
using Granary.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway.Security;

/// <summary>
/// Decides, once per request, which output columns a caller gets masked: the features tagged <c>pii</c> (<see cref="PiiCatalog"/>)
/// of views on which the caller lacks READ_UNMASKED. In refuse mode it refuses the request instead (403 / PERMISSION_DENIED
/// naming the feature and the missing action). With authorization off every caller holds every action, so nothing is
/// masked; what is written without a reader (feature logs) is always masked.
/// </summary>
public sealed class PiiMaskingPolicy(IOptions<GatewayOptions> options, GatewayAuthorization authorization)
{
    private readonly PiiMaskingOptions _settings = options.Value.Masking;

    /// <summary>The masker of this gateway's settings.</summary>
    public PiiMasker Masker { get; } = new(options.Value.Masking.Mask, options.Value.Masking.Salt);

    /// <summary>The mode of features whose tag names none.</summary>
    public MaskingMode DefaultMode => _settings.Mode;

    /// <summary>
    /// The columns of <paramref name="plan"/>'s answer (by output column name) that the caller gets masked; null when none
    /// (the usual case, and all a snapshot without PII costs is one table lookup). Refuses in refuse mode.
    /// </summary>
    public ColumnMasks? ForRead(HttpContext context, RegistrySnapshot snapshot, HistoricalRetrievalPlan plan)
    {
        var catalog = PiiCatalog.For(snapshot);
        if (!catalog.Any) return null;
        Dictionary<string, ColumnMask>? masks = null;
        foreach (var view in plan.Views)
            foreach (var feature in view.Features)
                if (feature.IsOutput) Decide(context, snapshot, catalog, PermissionRules.FeatureView, view.View.Name, feature, ref masks);
        foreach (var view in plan.OnDemandViews)
            foreach (var output in view.Outputs)
                Decide(context, snapshot, catalog, PermissionRules.OnDemandFeatureView, view.View.Name, output, ref masks);
        return masks is null ? null : new ColumnMasks(Masker, masks);
    }

    /// <summary>
    /// The features of <paramref name="views"/> (keyed <c>view:feature</c>) the caller gets masked in a report that shows
    /// values (parity mismatches); null when none. A report is not a read of the values it happens to show, so features
    /// masked by refusal show the fixed mask there rather than refusing the report.
    /// </summary>
    public ColumnMasks? ForViews(HttpContext context, RegistrySnapshot snapshot, IEnumerable<string> views)
    {
        var catalog = PiiCatalog.For(snapshot);
        if (!catalog.Any) return null;
        Dictionary<string, ColumnMask>? masks = null;
        foreach (var name in views)
        {
            if (snapshot.FindFeatureView(name) is not { } view) continue;
            foreach (var field in view.Features)
                Decide(context, snapshot, catalog, PermissionRules.FeatureView, view.Name,
                    new FeatureColumn(field.Name, field.Name, $"{view.Name}:{field.Name}", true, field.Type), ref masks, refuse: false);
        }
        return masks is null ? null : new ColumnMasks(Masker, masks);
    }

    /// <summary>
    /// The mode each of <paramref name="features"/> of <paramref name="view"/> is written with where no reader decides
    /// (feature logs): null for a feature that is not PII; refusal and hash without a salt write the fixed mask.
    /// </summary>
    public MaskingMode?[] ForLog(FeatureView view, IReadOnlyList<FeatureColumn> features)
    {
        var modes = new MaskingMode?[features.Count];
        for (var i = 0; i < features.Count; i++)
        {
            var field = view.Features.FirstOrDefault(f => f.Name == features[i].Feature);
            if (field is null || !PiiCatalog.IsPii(view, field, out var tagged)) continue;
            var mode = tagged ?? DefaultMode;
            modes[i] = mode == MaskingMode.Hash && Masker.CanHash ? MaskingMode.Hash : MaskingMode.Mask;
        }
        return modes;
    }

    private void Decide(HttpContext context, RegistrySnapshot snapshot, PiiCatalog catalog, string type, string view, FeatureColumn feature,
        ref Dictionary<string, ColumnMask>? masks, bool refuse = true)
    {
        if (catalog.ModeOf(view, feature.Feature, DefaultMode) is not { } mode) return;
        if (MayReadUnmasked(context, snapshot, type, view)) return;
        var user = context.User.Identity?.Name ?? "(anonymous)";
        if (mode == MaskingMode.Refuse && !refuse) mode = MaskingMode.Mask;
        if (mode == MaskingMode.Refuse)
        {
            RequestAccess.Of(context).Add(new AccessDecision(PermissionAction.ReadUnmasked, type, view, Allowed: false, Sensitive: true));
            throw new GatewayForbiddenException(
                $"principal '{user}' may not read feature '{view}:{feature.Feature}' of project '{snapshot.Project}': it is tagged pii, masked by refusal, and the principal lacks READ_UNMASKED on {type} '{view}'",
                $"leave the feature out of the request, or have a permission grant READ_UNMASKED on {type} '{view}' to one of the principal's roles");
        }
        if (mode == MaskingMode.Hash && !Masker.CanHash)
        {
            throw new GatewayConflictException(
                $"feature '{view}:{feature.Feature}' is tagged pii and masked by hash, but this gateway has no masking salt",
                $"set Granary:Gateway:Masking:Salt (env Granary__Gateway__Masking__Salt) on the gateway to a random secret of at least {PiiMasker.MinimumSaltLength} characters, or tag the feature pii: mask");
        }
        (masks ??= new Dictionary<string, ColumnMask>(StringComparer.Ordinal))[feature.ColumnName] = new ColumnMask(feature.Type, mode);
    }

    // Decided once per view and request: the answer is kept in RequestAccess only when it grants, as an audited read of
    // sensitive data; lacking the action is no refusal (the values are served masked), so it is not recorded as a denial.
    private bool MayReadUnmasked(HttpContext context, RegistrySnapshot snapshot, string type, string view)
    {
        var access = RequestAccess.Of(context);
        foreach (var decision in access.Decisions)
            if (decision.Action == PermissionAction.ReadUnmasked && decision.ObjectType == type && decision.ObjectName == view) return decision.Allowed;
        if (authorization.Enforced)
        {
            var tags = PermissionRules.Find(snapshot, type, view)?.Tags ?? RegistryObject.EmptyTags;
            var roles = context.User.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
            if (!PermissionRules.Allows(snapshot.Permissions, roles, PermissionAction.ReadUnmasked, type, view, tags)) return false;
        }
        access.Add(new AccessDecision(PermissionAction.ReadUnmasked, type, view, Allowed: true, Sensitive: true));
        return true;
    }
}

/// <summary>How one PII column is masked for this request: its declared type and the mode.</summary>
public readonly record struct ColumnMask(ValueType Type, MaskingMode Mode);

/// <summary>The masked columns of one request, by column name, and the masker that masks them.</summary>
public sealed class ColumnMasks(PiiMasker masker, IReadOnlyDictionary<string, ColumnMask> columns)
{
    /// <summary>The masked columns by name.</summary>
    public IReadOnlyDictionary<string, ColumnMask> Columns { get; } = columns;

    /// <summary>
    /// <paramref name="response"/> with its masked columns replaced by masked copies (event times kept; statuses kept but
    /// PRESENT for a value masked to null, which is NULL_VALUE); the other columns are the same objects, and the response
    /// itself is not changed (the feature log may still read it).
    /// </summary>
    public OnlineFeaturesResponse Apply(OnlineFeaturesResponse response)
    {
        var results = new OnlineFeatureColumn[response.Results.Count];
        for (var c = 0; c < results.Length; c++)
        {
            var column = response.Results[c];
            if (!Columns.TryGetValue(response.FeatureNames[c], out var mask))
            {
                results[c] = column;
                continue;
            }
            var values = new object?[column.Values.Length];
            for (var r = 0; r < values.Length; r++) values[r] = masker.Mask(column.Values[r], mask.Type, mask.Mode);
            var statuses = column.Statuses;
            if (!PiiMasker.KeepsValue(mask.Type, mask.Mode))
            {
                // A value masked to null is NULL_VALUE: Feast's RemoteOnlineStore converts every PRESENT value by its
                // Python type and cannot type a null (feast/infra/online_stores/remote.py, type_map.python_values_to_proto_values).
                statuses = (FeatureStatus[])statuses.Clone();
                for (var r = 0; r < statuses.Length; r++)
                    if (statuses[r] == FeatureStatus.Present) statuses[r] = FeatureStatus.NullValue;
            }
            results[c] = new OnlineFeatureColumn(values, statuses, column.EventTimestamps) { ServedFromCache = column.ServedFromCache };
        }
        return new OnlineFeaturesResponse(response.FeatureNames, results);
    }

    /// <summary>Per name in <paramref name="names"/>, its mask, or null for a column shown as it is.</summary>
    public ColumnMask?[] For(IReadOnlyList<string> names)
    {
        var result = new ColumnMask?[names.Count];
        for (var i = 0; i < result.Length; i++)
            if (Columns.TryGetValue(names[i], out var mask)) result[i] = mask;
        return result;
    }

    /// <summary>The masked form of <paramref name="value"/>.</summary>
    public object? Mask(object? value, ColumnMask mask) => masker.Mask(value, mask.Type, mask.Mode);

    /// <summary>
    /// <paramref name="report"/> with the offline and online values of masked features (keyed <c>view:feature</c>) masked;
    /// the entity keys are shown as they are (they are the caller's own input to a read, not features).
    /// </summary>
    public ParityReport Apply(ParityReport report) => new(report.Views.Select(view => view with
    {
        Mismatches = view.Mismatches.Select(m => Columns.TryGetValue($"{view.FeatureView}:{m.Feature}", out var mask)
            ? m with { Offline = MaskJson(m.Offline, mask), Online = MaskJson(m.Online, mask) }
            : m).ToList(),
    }).ToList());

    // Parity shows values as JSON text (ParityChecker.Json); read back by the declared type, masked, written the same way.
    private string? MaskJson(string? json, ColumnMask mask)
    {
        if (json is null) return null;
        var node = JsonNode.Parse(json);
        if (node is null) return json;
        object? Read(JsonNode? n) => n is null ? null : mask.Type.Scalar switch
        {
            ScalarType.String => n.GetValue<string>(),
            ScalarType.Int32 or ScalarType.Int64 => n.GetValue<long>(),
            ScalarType.Bytes => Convert.FromBase64String(n.GetValue<string>()),
            _ => n.ToJsonString(), // masks to null whatever it holds
        };
        object? value = mask.Type.IsList && node is JsonArray array ? array.Select(Read).ToArray() : Read(node);
        var masked = masker.Mask(value, mask.Type, mask.Mode);
        return masked is null ? null : ParityChecker.Json(masked);
    }
}
