using System.Text.Json;
using Granary.Online;

namespace Granary.Serving;

/// <summary>
/// Feast's JSON form of an online read, as its Python feature server answers <c>/get-online-features</c>:
/// <c>{"metadata":{"feature_names":[...]},"results":[{"values":[...],"statuses":[...],"event_timestamps":[...]}]}</c>,
/// one result per feature name (join keys first), statuses by Feast's names, timestamps in ISO 8601 UTC
/// (<c>1970-01-01T00:00:00Z</c> where none, as Feast sends). A result some of whose rows were served from an entity
/// grain's cache while the online store was unreachable also carries Granary's <c>"granary_served_from_cache":[bool...]</c>
/// (one per row); Feast's clients read the other keys by name and skip it.
/// </summary>
public static class OnlineFeaturesJson
{
    /// <summary>Feast's name for a status.</summary>
    public static string StatusName(FeatureStatus status) => status switch
    {
        FeatureStatus.Present => "PRESENT",
        FeatureStatus.NullValue => "NULL_VALUE",
        FeatureStatus.NotFound => "NOT_FOUND",
        FeatureStatus.OutsideMaxAge => "OUTSIDE_MAX_AGE",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown feature status"),
    };

    /// <summary>The key of Granary's per-row served-from-cache flags in a result (absent when no row was).</summary>
    public const string ServedFromCacheKey = "granary_served_from_cache";

    /// <summary>Writes <paramref name="response"/> in Feast's shape.</summary>
    public static void Write(Utf8JsonWriter json, OnlineFeaturesResponse response)
    {
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteStartArray("feature_names");
        foreach (var name in response.FeatureNames) json.WriteStringValue(name);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteStartArray("results");
        // The features of one view share their entity row's event time: format it once per distinct (row, time).
        var rows = response.Results.Count == 0 ? 0 : response.Results[0].EventTimestamps.Length;
        var stampAt = new DateTimeOffset[rows];
        var stamps = new string?[rows];
        foreach (var column in response.Results)
        {
            json.WriteStartObject();
            json.WriteStartArray("values");
            foreach (var value in column.Values) WriteValue(json, value);
            json.WriteEndArray();
            json.WriteStartArray("statuses");
            foreach (var status in column.Statuses) json.WriteStringValue(StatusName(status));
            json.WriteEndArray();
            json.WriteStartArray("event_timestamps");
            for (var r = 0; r < column.EventTimestamps.Length; r++)
            {
                var at = column.EventTimestamps[r] ?? DateTimeOffset.UnixEpoch;
                if (r >= rows) json.WriteStringValue(Iso(at));
                else if (stamps[r] is { } held && stampAt[r] == at) json.WriteStringValue(held);
                else
                {
                    (stamps[r], stampAt[r]) = (Iso(at), at);
                    json.WriteStringValue(stamps[r]);
                }
            }
            json.WriteEndArray();
            if (column.ServedFromCache is { } fromCache)
            {
                json.WriteStartArray(ServedFromCacheKey);
                foreach (var flag in fromCache) json.WriteBooleanValue(flag);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Writes one feature value as JSON (numbers, strings, booleans, base64 bytes, ISO timestamps, arrays; null).</summary>
    public static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case float f when float.IsFinite(f): json.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case float f: json.WriteStringValue(f.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case double d: json.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case bool b: json.WriteBooleanValue(b); break;
            case string s: json.WriteStringValue(s); break;
            case byte[] bytes: json.WriteBase64StringValue(bytes); break;
            case DateTimeOffset t: json.WriteStringValue(Iso(t)); break;
            case System.Collections.IEnumerable items:
                json.WriteStartArray();
                foreach (var item in items) WriteValue(json, item);
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
