using System.Net;
using System.Text;
using System.Text.Json;

namespace Granary.Streams.Tests;

/// <summary>Reads users 0..9's served <c>user_clicks:clicks</c> from a gateway's Feast REST API, as the serve tests check it.</summary>
internal static class ServedClicks
{
    /// <summary>The served clicks of users 0..9 (null where not found), or null while the gateway is not up yet.</summary>
    public static async Task<List<long?>?> ReadAsync(HttpClient http, int restPort)
    {
        var users = string.Join(",", Enumerable.Range(0, 10));
        var body = $$$"""{"features":["user_clicks:clicks"],"entities":{"user_id":[{{{users}}}]}}""";
        try
        {
            using var response = await http.PostAsync($"http://127.0.0.1:{restPort}/get-online-features", new StringContent(body, Encoding.UTF8, "application/json"));
            if (response.StatusCode != HttpStatusCode.OK) return null;
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            // Feast's shape: results[1] is the feature's column (results[0] the join key's).
            var column = json.RootElement.GetProperty("results")[1];
            return column.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetInt64() : (long?)null).ToList();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
