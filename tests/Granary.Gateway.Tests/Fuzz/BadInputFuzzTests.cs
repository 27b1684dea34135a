using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Feast.Serving;
using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Granary.Gateway.V1;
using Grpc.Core;
using Xunit.Abstractions;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests.Fuzz;

/// <summary>
/// Bad input never gets a 5xx, a gRPC UNKNOWN or INTERNAL, or a hang: over 10,000 cases, each made from a valid request by
/// mutation with <c>new Random(seed)</c> (fixed seeds, so a failing case reruns alone), over every REST route, every gRPC
/// method (sent as raw bytes) and malformed HTTP on a raw socket. At the end the server is healthy and still serves reads.
/// </summary>
public sealed class BadInputFuzzTests(FuzzServer server, ITestOutputHelper output) : IClassFixture<FuzzServer>
{
    private const int BaseSeed = 20_261_207;
    private const int Cases = 10_400;
    private const int Concurrency = 8;
    private static readonly TimeSpan Slowest = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Ten_thousand_mutated_requests_get_4xx_or_a_grpc_status_never_5xx_unknown_internal_or_a_hang()
    {
        var targets = Targets();
        var failures = new ConcurrentBag<Outcome>();
        var statuses = new ConcurrentDictionary<string, int>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        using var rest = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(server.Gateway.RestUrl), Timeout = Slowest + TimeSpan.FromSeconds(5),
        };

        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Cases)
            {
                var seed = BaseSeed + i;
                var target = targets[i % targets.Count];
                var started = Stopwatch.GetTimestamp();
                Outcome outcome;
                try
                {
                    outcome = await target.Run(new Random(seed), rest);
                }
                catch (Exception e)
                {
                    outcome = new Outcome("exception", $"{e.GetType().Name}: {e.Message}", Failed: true);
                }
                outcome = outcome with { Seed = seed, Target = target.Name, Elapsed = Stopwatch.GetElapsedTime(started) };
                if (outcome.Elapsed > Slowest) outcome = outcome with { Failed = true, Status = outcome.Status + " (slow)" };
                statuses.AddOrUpdate($"{target.Name} {outcome.Status}", 1, (_, n) => n + 1);
                if (outcome.Failed) failures.Add(outcome);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(Worker)));
        output.WriteLine($"{Cases} cases in {clock.Elapsed.TotalSeconds:0.0} s over {targets.Count} targets");
        foreach (var (key, count) in statuses.OrderBy(s => s.Key, StringComparer.Ordinal)) output.WriteLine($"  {key}: {count}");

        // The server is healthy at the end and a valid read still works.
        using var health = await rest.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var read = await rest.PostAsync("/get-online-features",
            new StringContent("""{"features":["driver_stats:trips"],"entities":{"driver_id":[3]}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var json = JsonDocument.Parse(await read.Content.ReadAsStringAsync()))
            Assert.Equal(30, json.RootElement.GetProperty("results")[1].GetProperty("values")[0].GetInt64());

        if (!failures.IsEmpty) Assert.Fail(Summary(failures));
    }

    // Failures grouped by target and status, with a few cases each: seed, status and the start of the answer.
    private static string Summary(IEnumerable<Outcome> failures)
    {
        var text = new StringBuilder($"{failures.Count()} cases failed:\n");
        foreach (var group in failures.GroupBy(f => $"{f.Target} {f.Status}").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append($"- {group.Key}: {group.Count()} cases\n");
            foreach (var f in group.OrderBy(f => f.Seed).Take(3))
                text.Append($"    seed {f.Seed} ({f.Elapsed.TotalMilliseconds:0} ms): {Cut(f.Body, 200)}\n");
        }
        return text.ToString();
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max] + "...";

    /// <summary>What one case got: its status (HTTP code or gRPC status), the start of the body, and whether that is a failure.</summary>
    private sealed record Outcome(string Status, string Body, bool Failed)
    {
        public int Seed { get; init; }
        public string Target { get; init; } = "";
        public TimeSpan Elapsed { get; init; }
    }

    private sealed record Target(string Name, Func<Random, HttpClient, Task<Outcome>> Run);

    private List<Target> Targets()
    {
        var targets = new List<Target>();
        // REST JSON routes: a valid body, mutated.
        void Json(string route, params string[] bodies) => targets.Add(new Target("POST " + route, (random, http) =>
            PostAsync(http, route, JsonMutations.Mutate(random, bodies[random.Next(bodies.Length)]))));
        Json("/get-online-features",
            """{"features":["driver_stats:conv_rate","driver_stats:trips"],"entities":{"driver_id":[1,2,3]},"full_feature_names":false}""",
            """{"feature_service":"driver_service","entities":{"driver_id":[4]}}""",
            """{"features":["city_stats:population"],"entities":{"city":["Paris","Rome"]},"request_context":{"ride_at":[1704067200],"distance":[1.5]}}""");
        Json("/materialize", """{"feature_views":["city_stats"],"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-03T00:00:00Z"}""");
        Json("/materialize-incremental", """{"feature_views":["city_stats"],"end_ts":"2024-01-03T00:00:00Z"}""");
        Json("/push", """{"push_source_name":"driver_push","df":{"driver_id":[7],"event_timestamp":["2024-01-02T00:00:00Z"],"speed":[1.5]},"to":"online_and_offline"}""",
            """{"push_source_name":"driver_push","df":{"driver_id":[8,9],"event_timestamp":[1704153600,1704153601],"speed":[2,3.25]},"to":"offline"}""");
        Json("/write-to-online-store", """{"feature_view_name":"pushed_stats","df":{"driver_id":[7],"event_timestamp":["2024-01-02T00:00:00Z"],"speed":[1.5]}}""");
        Json("/parity", """{"views":["pushed_stats"],"sample":20,"seed":3}""", """{"views":["driver_stats"],"sample":5}""");
        Json("/drift", """{"baseline":"data/drivers.parquet","window":"24h","views":["driver_stats"]}""");

        // REST GET routes: a valid path and query, mutated.
        void Get(string name, params string[] paths) => targets.Add(new Target("GET " + name, (random, http) =>
            GetAsync(http, PathMutations.Mutate(random, paths[random.Next(paths.Length)]))));
        Get("/health", "/health");
        Get("/api/health", "/api/health/parity", "/api/health/drift");
        Get("/api/catalog", "/api/catalog/search?q=driver&kind=feature_view", "/api/catalog/feature-views", "/api/catalog/feature-views/driver_stats");
        Get("/ui", "/ui/", "/ui/index.html");
        Get("/metrics", "/metrics");
        Get("/dashboard (silo paths)", "/dashboard/SiloCounters/127.0.0.1:11111@1", "/dashboard/HistoricalStats/127.0.0.1:11111@1",
            "/dashboard/SiloStats/127.0.0.1:11111@1", "/dashboard/SiloProperties/127.0.0.1:11111@1", "/dashboard/SiloMetadata/127.0.0.1:11111@1");
        Get("/dashboard", "/dashboard/ClusterStats", "/dashboard/DashboardCounters", "/dashboard/Reminders/1", "/dashboard/GrainStats/x",
            "/dashboard/TopGrainMethods", "/dashboard/GrainTypes", "/dashboard/LifecycleStages", "/dashboard/version", "/dashboard/GrainState?grainId=1&grainType=x");

        // gRPC: every method, raw bytes (a valid message mutated as a message or as bytes).
        void Grpc(string service, string method, MethodType type, Func<Random, IMessage> valid) => targets.Add(new Target($"gRPC {method}", (random, _) =>
            CallAsync(service, method, type, ProtoMutations.Mutate(random, valid(random)))));
        const string feast = "feast.serving.ServingService", granary = "granary.gateway.v1.Granary";
        Grpc(feast, "GetFeastServingInfo", MethodType.Unary, _ => new GetFeastServingInfoRequest());
        Grpc(feast, "GetOnlineFeatures", MethodType.Unary, ProtoMutations.OnlineRequest);
        Grpc(granary, "GetOnlineFeatures", MethodType.Unary, ProtoMutations.OnlineRequest);
        Grpc(granary, "Push", MethodType.Unary, ProtoMutations.PushRequest);
        Grpc(granary, "Materialize", MethodType.Unary, ProtoMutations.MaterializeRequest);
        Grpc(granary, "MaterializeIncremental", MethodType.Unary, ProtoMutations.MaterializeIncrementalRequest);
        Grpc(granary, "GetMaterializationStatus", MethodType.Unary, ProtoMutations.StatusRequest);
        Grpc(granary, "WatchMaterialization", MethodType.ServerStreaming, ProtoMutations.StatusRequest);
        Grpc(granary, "ListRegistry", MethodType.Unary, _ => new ListRegistryRequest());
        Grpc(granary, "GetHistoricalFeatures", MethodType.ServerStreaming, ProtoMutations.HistoricalRequest);

        // Malformed HTTP on a raw socket.
        targets.Add(new Target("raw HTTP", (random, _) => RawHttpAsync(RawHttp.Request(random))));
        return targets;
    }

    private static async Task<Outcome> PostAsync(HttpClient http, string route, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var cancel = new CancellationTokenSource(Slowest);
        using var response = await http.PostAsync(route, content, cancel.Token);
        return await OutcomeOf(response, cancel.Token);
    }

    private static async Task<Outcome> GetAsync(HttpClient http, string path)
    {
        using var cancel = new CancellationTokenSource(Slowest);
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        return await OutcomeOf(response, cancel.Token);
    }

    private static async Task<Outcome> OutcomeOf(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var body = "";
        // The body of a failure is what the summary shows; a success's body is not read whole (the UI, metrics).
        if (status >= 400) body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new Outcome(status.ToString(System.Globalization.CultureInfo.InvariantCulture), body, Failed: status >= 500);
    }

    private async Task<Outcome> CallAsync(string service, string method, MethodType type, byte[] request)
    {
        var call = new Method<byte[], byte[]>(type, service, method, RawBytes, RawBytes);
        var invoker = server.Channel.CreateCallInvoker();
        var options = new CallOptions(deadline: DateTime.UtcNow.Add(Slowest));
        try
        {
            if (type == MethodType.Unary)
            {
                await invoker.AsyncUnaryCall(call, null, options, request).ResponseAsync;
            }
            else
            {
                using var stream = invoker.AsyncServerStreamingCall(call, null, options, request);
                while (await stream.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            return new Outcome("OK", "", Failed: false);
        }
        catch (RpcException e)
        {
            var failed = e.StatusCode is StatusCode.Unknown or StatusCode.Internal or StatusCode.DeadlineExceeded;
            return new Outcome(e.StatusCode.ToString(), e.Status.Detail, failed);
        }
    }

    private static readonly Marshaller<byte[]> RawBytes = Marshallers.Create(bytes => bytes, bytes => bytes);

    private async Task<Outcome> RawHttpAsync(byte[] request)
    {
        var url = new Uri(server.Gateway.RestUrl);
        using var cancel = new CancellationTokenSource(Slowest);
        using var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port, cancel.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, cancel.Token);
        client.Client.Shutdown(SocketShutdown.Send);
        var buffer = new byte[4096];
        var received = new MemoryStream();
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cancel.Token)) > 0)
            {
                received.Write(buffer, 0, n);
                if (received.Length > 64 * 1024) break;
            }
        }
        catch (IOException) when (!cancel.IsCancellationRequested)
        {
            // Kestrel resets a connection whose request it refused while body bytes were still unread: an answer, not a fault.
        }
        var text = Encoding.UTF8.GetString(received.ToArray());
        // "HTTP/1.1 400 Bad Request": the status is the second word; a closed connection with no answer is no 5xx.
        var parts = text.Split(' ', 3);
        if (parts.Length < 2 || !int.TryParse(parts[1], out var status)) return new Outcome("closed", Cut(text, 200), Failed: false);
        var bodyAt = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return new Outcome(status.ToString(System.Globalization.CultureInfo.InvariantCulture), bodyAt < 0 ? text : text[(bodyAt + 4)..], Failed: status >= 500);
    }
}
