using System.Text.Json;

namespace Granary.FeatureHealth;

/// <summary>
/// The JSON forms of health results that REST answers, the UI reads and <c>--json</c> prints:
/// <c>{"views":[{"feature_view","checked_at","parity_rate","compared","matching","entities","mismatches":[{"entity":{..},"feature","offline","online","online_status","reason"}]}]}</c>
/// and <c>{"views":[{"feature_view","checked_at","served_rows","baseline_rows","features":[{"feature","kind","psi","ks","ks_p","chi_square","chi_square_p","null_rate_difference","threshold","drifted","reasons"}]}]}</c>.
/// </summary>
public static class HealthJson
{
    /// <summary>Writes a parity report.</summary>
    public static void Write(Utf8JsonWriter json, ParityReport report)
    {
        json.WriteStartObject();
        json.WriteStartArray("views");
        foreach (var view in report.Views)
        {
            json.WriteStartObject();
            json.WriteString("feature_view", view.FeatureView);
            json.WriteString("checked_at", Time(view.CheckedAt));
            json.WriteNumber("parity_rate", view.ParityRate);
            json.WriteNumber("compared", view.Compared);
            json.WriteNumber("matching", view.Matching);
            json.WriteNumber("entities", view.Entities);
            json.WriteStartArray("mismatches");
            foreach (var m in view.Mismatches)
            {
                json.WriteStartObject();
                json.WriteStartObject("entity");
                foreach (var (key, value) in m.Entity)
                {
                    json.WritePropertyName(key);
                    json.WriteRawValue(value);
                }
                json.WriteEndObject();
                json.WriteString("feature", m.Feature);
                json.WritePropertyName("offline");
                if (m.Offline is null) json.WriteNullValue(); else json.WriteRawValue(m.Offline);
                json.WritePropertyName("online");
                if (m.Online is null) json.WriteNullValue(); else json.WriteRawValue(m.Online);
                json.WriteString("online_status", m.OnlineStatus);
                json.WriteString("reason", m.Reason);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Writes a drift report.</summary>
    public static void Write(Utf8JsonWriter json, DriftReport report)
    {
        json.WriteStartObject();
        json.WriteBoolean("drifted", report.Drifted);
        json.WriteStartArray("views");
        foreach (var view in report.Views)
        {
            json.WriteStartObject();
            json.WriteString("feature_view", view.FeatureView);
            json.WriteString("checked_at", Time(view.CheckedAt));
            json.WriteNumber("served_rows", view.ServedRows);
            json.WriteNumber("baseline_rows", view.BaselineRows);
            json.WriteStartArray("features");
            foreach (var f in view.Features)
            {
                json.WriteStartObject();
                json.WriteString("feature", f.Feature);
                json.WriteString("kind", f.Kind == DriftKind.Numeric ? "numeric" : "categorical");
                Number(json, "psi", f.Psi);
                Number(json, "ks", f.Ks);
                Number(json, "ks_p", f.KsP);
                Number(json, "chi_square", f.ChiSquare);
                Number(json, "chi_square_p", f.ChiSquareP);
                Number(json, "null_rate_difference", f.NullRateDifference);
                Number(json, "threshold", f.Threshold);
                json.WriteNumber("served_values", f.ServedValues);
                json.WriteNumber("baseline_values", f.BaselineValues);
                json.WriteBoolean("drifted", f.Drifted);
                json.WriteStartArray("reasons");
                foreach (var reason in f.Reasons) json.WriteStringValue(reason);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }
}
