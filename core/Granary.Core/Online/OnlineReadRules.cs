using System.Globalization;
using Granary.Definitions;

namespace Granary.Online;

/// <summary>Per-feature status of an online read, as Feast names them.</summary>
public enum FeatureStatus
{
    /// <summary>A value is held and within the view's ttl.</summary>
    Present,
    /// <summary>The row is held and the feature was written as null.</summary>
    NullValue,
    /// <summary>No row is held for the entity and view, or the row lacks the feature.</summary>
    NotFound,
    /// <summary>A value is held but older than the view's ttl allows (<c>now - event_ts &gt; ttl</c>); the value is still returned.</summary>
    OutsideMaxAge,
}

/// <summary>One feature's answer to an online read.</summary>
/// <param name="Feature">The feature's name.</param>
/// <param name="Value">The value held (also for OUTSIDE_MAX_AGE); null for NULL_VALUE and NOT_FOUND.</param>
/// <param name="Status">The feature's status.</param>
/// <param name="EventTimestamp">The row's event timestamp; null when NOT_FOUND because no row is held.</param>
/// <param name="Stale">True when a row is held and <c>now - event_ts &gt; the view's freshness SLA</c>.</param>
/// <param name="ServedFromCache">True when the answer came from an entity grain's cache while the online store was unreachable (last-known-good).</param>
public readonly record struct FeatureReadResult(string Feature, object? Value, FeatureStatus Status, DateTimeOffset? EventTimestamp, bool Stale, bool ServedFromCache = false);

/// <summary>
/// The rules that turn a held row into what a reader sees, shared by every read path (EntityGrain, CLI, gateway). Pure:
/// the caller passes <c>now</c>.
/// </summary>
/// <remarks>
/// Per feature: no row or no such feature in the row: NOT_FOUND (value null, stale false). A null value: NULL_VALUE,
/// whatever its age. Otherwise OUTSIDE_MAX_AGE when the view has a ttl (positive) and <c>now - event_ts &gt; ttl</c>
/// (an age of exactly the ttl is still PRESENT), else PRESENT. <c>Stale</c> is set for any held row when the view has a
/// freshness SLA and <c>now - event_ts &gt; SLA</c> (exactly the SLA is not stale). A row from the future (event after now)
/// has a negative age: PRESENT and not stale.
/// </remarks>
public static class OnlineReadRules
{
    /// <summary>The tag that sets a view's freshness SLA in minutes (e.g. <c>sla_freshness_minutes: "15"</c>).</summary>
    public const string FreshnessSlaTag = "sla_freshness_minutes";

    /// <summary>
    /// The view's freshness SLA: <see cref="FeatureView.FreshnessSla"/> when set, otherwise the
    /// <see cref="FreshnessSlaTag"/> tag; null when neither is set (or the SLA is zero).
    /// </summary>
    /// <exception cref="OnlineRowSchemaException">The tag is not a positive number of minutes.</exception>
    public static TimeSpan? FreshnessSlaOf(FeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.FreshnessSla is { } sla) return sla > TimeSpan.Zero ? sla : null;
        if (!view.Tags.TryGetValue(FreshnessSlaTag, out var text)) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes)
            || !double.IsFinite(minutes) || minutes < 0 || minutes > TimeSpan.MaxValue.TotalMinutes / 2)
            throw new OnlineRowSchemaException(
                $"feature view '{view.Name}' has tag {FreshnessSlaTag}: '{text}', which is not a number of minutes",
                $"set {FreshnessSlaTag} to a non-negative number, e.g. \"15\" or \"0.5\"");
        return minutes > 0 ? TimeSpan.FromMinutes(minutes) : null;
    }

    /// <summary>Evaluates every feature of <paramref name="view"/>, in schema order.</summary>
    public static FeatureReadResult[] Evaluate(OnlineRow? row, FeatureView view, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        var names = new string[view.Features.Count];
        for (var i = 0; i < names.Length; i++) names[i] = view.Features[i].Name;
        return Evaluate(row, view, names, now);
    }

    /// <summary>Evaluates the named features of <paramref name="view"/>, in the order given.</summary>
    public static FeatureReadResult[] Evaluate(OnlineRow? row, FeatureView view, IReadOnlyList<string> features, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(features);
        var ttl = view.HasTtl ? view.Ttl : null;
        var sla = FreshnessSlaOf(view);
        var results = new FeatureReadResult[features.Count];
        for (var i = 0; i < results.Length; i++) results[i] = Evaluate(row, features[i], ttl, sla, now);
        return results;
    }

    /// <summary>Evaluates one feature given the view's ttl and SLA (null or non-positive: no limit).</summary>
    public static FeatureReadResult Evaluate(OnlineRow? row, string feature, TimeSpan? ttl, TimeSpan? freshnessSla, DateTimeOffset now)
    {
        if (row is null) return new(feature, null, FeatureStatus.NotFound, null, false);
        var age = now - row.EventTimestamp;
        var stale = freshnessSla is { } sla && sla > TimeSpan.Zero && age > sla;
        if (!row.Values.TryGetValue(feature, out var value))
            return new(feature, null, FeatureStatus.NotFound, row.EventTimestamp, stale);
        if (value is null) return new(feature, null, FeatureStatus.NullValue, row.EventTimestamp, stale);
        var outside = ttl is { } t && t > TimeSpan.Zero && age > t;
        return new(feature, value, outside ? FeatureStatus.OutsideMaxAge : FeatureStatus.Present, row.EventTimestamp, stale);
    }
}
