using System.Text.Json;
using Granary.Offline;

namespace Granary.Quality;

/// <summary>
/// The JSON form of a quarantined materialization row: each join key, <c>event_timestamp</c>, <c>created_timestamp</c> and
/// each feature, as push text (<see cref="PushRules.Text"/>), so a release parses it back by the view's types.
/// </summary>
public static class QuarantinedRows
{
    /// <summary>The key of the event time in a materialization row.</summary>
    public const string EventTimestamp = "event_timestamp";
    /// <summary>The key of the created time in a materialization row.</summary>
    public const string CreatedTimestamp = "created_timestamp";

    /// <summary>A materialization row as JSON.</summary>
    public static string Json(IReadOnlyList<string> joinKeys, LatestFeatureRow row, IReadOnlyList<string> features)
    {
        var values = new Dictionary<string, string?>(joinKeys.Count + features.Count + 2, StringComparer.Ordinal);
        for (var k = 0; k < joinKeys.Count; k++) values[joinKeys[k]] = PushRules.Text(row.JoinKeyValues[k]);
        values[EventTimestamp] = PushRules.Text(row.EventTimestamp);
        if (row.CreatedTimestamp is { } created) values[CreatedTimestamp] = PushRules.Text(created);
        for (var f = 0; f < features.Count; f++) values[features[f]] = PushRules.Text(row.FeatureValues[f]);
        return JsonSerializer.Serialize(values);
    }

    /// <summary>A quarantined row's JSON as column names and text values (null for JSON null).</summary>
    /// <exception cref="JsonException">The text is not a JSON object of strings and nulls.</exception>
    public static (string[] Columns, object?[] Values) Parse(string json)
    {
        var map = JsonSerializer.Deserialize<Dictionary<string, string?>>(json) ?? throw new JsonException("a quarantined row is 'null'");
        return (map.Keys.ToArray(), map.Values.Cast<object?>().ToArray());
    }
}
