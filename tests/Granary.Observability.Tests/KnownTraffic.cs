using System.Net;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Granary.Grains.Online;
using Grpc.Core;
using Value = Feast.Types.Value;

namespace Granary.Observability.Tests;

/// <summary>
/// The traffic the fixture sends once, and the figures it must produce. Sent before any test, so every test reads the
/// same counters whatever the order.
/// </summary>
public static class KnownTraffic
{
    /// <summary>Entity rows per read: drivers 1-3 are materialized, 99 is not (NOT_FOUND).</summary>
    public static readonly long[] Drivers = [1, 2, 3, 99];
    public static readonly string[] Features = ["driver_stats:conv_rate", "driver_stats:trips"];

    public const int RestReads = 4;
    public const int RestBadReads = 1;
    public const int FeastGrpcReads = 3;
    public const int GranaryGrpcBadReads = 1;
    public const int GoodPushes = 2;
    public const int BadPushes = 1;
    public const int Requests = RestReads + RestBadReads + FeastGrpcReads + GranaryGrpcBadReads + GoodPushes + BadPushes;

    /// <summary>Values served by the successful reads: per read, every driver times every feature.</summary>
    public const int ServedValues = (RestReads + FeastGrpcReads) * 4 * 2;
    public const int NotFoundValues = (RestReads + FeastGrpcReads) * 1 * 2;
    public const int MaterializedRows = 3;
    /// <summary>Each good push sends two rows with the same event ids, so the second one's are dropped; the bad one, one row.</summary>
    public const int PushedRows = GoodPushes * 2 + BadPushes;
    public const int DuplicateRows = 2;
    public const int RejectedRows = 1;
    public static readonly TimeSpan Schedule = TimeSpan.FromHours(6);

    public static async Task SendAsync(ObservedCluster cluster)
    {
        var http = cluster.Http;
        await Expect(http, "/materialize", """{"feature_views":["driver_stats"],"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-03T00:00:00Z"}""", HttpStatusCode.OK);
        await cluster.Grains.GetGrain<IMaterializationGrain>($"{cluster.Project}/driver_stats").ScheduleAsync(Schedule, TimeSpan.FromDays(1));
        // Its source file is gone: the run fails (the answer's status is the gateway's business; the failure is counted).
        using (var failed = await http.PostAsync("/materialize", new StringContent(
                   """{"feature_views":["gone_stats"],"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-03T00:00:00Z"}""", Encoding.UTF8, "application/json")))
            Assert.False(failed.IsSuccessStatusCode, "materializing a view whose file is gone succeeded");

        var read = "{\"features\":[" + string.Join(",", Features.Select(f => $"\"{f}\"")) + "],\"entities\":{\"driver_id\":[" + string.Join(",", Drivers) + "]}}";
        for (var i = 0; i < RestReads; i++) await Expect(http, "/get-online-features", read, HttpStatusCode.OK);
        await Expect(http, "/get-online-features", """{"features":["no_such_view:x"],"entities":{"driver_id":[1]}}""", HttpStatusCode.NotFound);

        var feast = new ServingService.ServingServiceClient(cluster.Channel);
        for (var i = 0; i < FeastGrpcReads; i++)
        {
            var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { Features } } };
            request.Entities["driver_id"] = new RepeatedValue { Val = { Drivers.Select(d => new Value { Int64Val = d }) } };
            await feast.GetOnlineFeaturesAsync(request);
        }
        var granary = new Granary.Gateway.V1.Granary.GranaryClient(cluster.Channel);
        var bad = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "no_such_view:x" } } };
        bad.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var error = await Assert.ThrowsAsync<RpcException>(() => granary.GetOnlineFeaturesAsync(bad).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);

        var push = """{"push_source_name":"driver_push","df":{"driver_id":[1,2],"event_id":["e1","e2"],"event_timestamp":["2024-02-01T00:00:00Z","2024-02-01T00:00:00Z"],"speed":[1.5,2.5]},"to":"online"}""";
        for (var i = 0; i < GoodPushes; i++) await Expect(http, "/push", push, HttpStatusCode.OK);
        await Expect(http, "/push", """{"push_source_name":"driver_push","df":{"driver_id":["x"],"event_timestamp":["2024-02-01T00:00:00Z"],"speed":[1.0]},"to":"online"}""", HttpStatusCode.BadRequest);
    }

    private static async Task Expect(HttpClient http, string path, string body, HttpStatusCode expected)
    {
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"POST {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
    }
}
