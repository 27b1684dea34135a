using System.Net;
using System.Text;
using System.Text.Json;

namespace Granary.Health.Tests;

/// <summary>A full feature-log queue drops rows and counts them; the request it came from is answered all the same.</summary>
public sealed class FeatureLogQueueTests(FeatureLogQueueTests.TinyQueueServer server) : IClassFixture<FeatureLogQueueTests.TinyQueueServer>
{
    /// <summary>Logs every row through a queue of one row, written one row per batch.</summary>
    public sealed class TinyQueueServer : HealthServer
    {
        protected override string Yaml => """
            feature_logging:
              sample_rate: 1.0
              queue_capacity: 1
              batch_size: 1
            """;
    }

    [Fact]
    public async Task Rows_beyond_the_queue_are_dropped_and_counted_and_the_request_is_answered()
    {
        for (var i = 0; i < 600 && !server.FeatureLogger.Ready; i++) await Task.Delay(100);
        Assert.True(server.FeatureLogger.Ready);
        var body = JsonSerializer.Serialize(new { features = new[] { "driver_stats:conv_rate" }, entities = new { driver_id = Enumerable.Range(1, 60).ToArray() } });
        using var response = await server.Http.PostAsync("/get-online-features", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(60, json.RootElement.GetProperty("results")[1].GetProperty("values").GetArrayLength());

        Assert.True(await server.FeatureLogger.DrainAsync(TimeSpan.FromSeconds(60)));
        // 60 rows met a queue of one: the loop takes a row now and then while the request fills it, so most are dropped.
        Assert.Equal(60, server.FeatureLogger.Written + server.FeatureLogger.Dropped);
        Assert.True(server.FeatureLogger.Dropped >= 50, $"dropped {server.FeatureLogger.Dropped}");
        Assert.True(server.FeatureLogger.Written >= 1);
    }
}
