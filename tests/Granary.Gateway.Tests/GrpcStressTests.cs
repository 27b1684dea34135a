using System.Diagnostics;
using Feast.Serving;
using Feast.Types;
using Granary.Definitions;
using Granary.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests;

/// <summary>
/// A server with wide answers: <c>wide</c> has 50 Float64 features over 2,000 drivers (100 x 50 is ~150 KB, more than
/// the client's 64 KB HTTP/2 stream window), <c>bulky</c> one 12,000-character string per driver (100 rows are 1.2 MB).
/// </summary>
public sealed class WideGatewayServer : EmbeddedServerFixture
{
    public const int Drivers = 2_000;
    public const int Features = 50;
    public const int TextLength = 12_000;
    private static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public WideGatewayServer() : base("gwwide", "granary-gateway-wide-")
    {
    }

    protected override void WriteData(TestRepository repository) => repository.WriteData(data => $"""
            COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp,
                         {string.Join(", ", Enumerable.Range(0, Features).Select(f => $"(i * {Features} + {f})::DOUBLE AS {Feature(f)}"))},
                         repeat(chr(97 + (i % 26)::INTEGER), {TextLength}) AS text
                  FROM range(1, {Drivers + 1}) r(i)) TO '{data}/wide.parquet' (FORMAT parquet);
            """);

    public static string Feature(int f) => $"f{f:D2}";

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(new RegistrySnapshot
        {
            Project = Project,
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new FileSource { Name = "wide_source", Path = "data/wide.parquet", TimestampField = "event_timestamp" }],
            FeatureViews =
            [
                new FeatureView
                {
                    Name = "wide", Entities = ["driver"], Source = "wide_source", Ttl = TimeSpan.FromDays(36500),
                    Features = [.. Enumerable.Range(0, Features).Select(f => new Field(Feature(f), new(ScalarType.Float64)))],
                },
                new FeatureView
                {
                    Name = "bulky", Entities = ["driver"], Source = "wide_source", Ttl = TimeSpan.FromDays(36500),
                    Features = [new Field("text", new(ScalarType.String))],
                },
            ],
        });
        foreach (var view in new[] { "wide", "bulky" }) await MaterializeAsync(view, Day, Day.AddDays(1));
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
    }
}

/// <summary>
/// One gRPC channel (one HTTP/2 connection) under a burst of 300 calls, then closed loops of 1, 4 and 16 callers, 20 s each: 100 x 50 reads with a
/// 1.2 MB read every eighth call, every call with a deadline. No call may run into its deadline or fail, and every
/// answer must hold the values written (driver d's feature f is d * 50 + f; its text is its letter 12,000 times).
/// </summary>
public sealed class GrpcStressTests(WideGatewayServer server, ITestOutputHelper output) : IClassFixture<WideGatewayServer>
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task One_channel_answers_every_wide_and_megabyte_call_under_1_4_and_16_closed_loops_within_its_deadline()
    {
        using var channel = GrpcChannel.ForAddress(server.Gateway.GrpcUrl, new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024 });
        var client = new ServingService.ServingServiceClient(channel);
        var report = new List<string>();

        // Every entity grain active first, one request at a time: the test is about the connection, not cold activations
        // (thousands of grains activating at once on two cores can outlast an entity read's own time limit).
        for (var first = 1; first <= WideGatewayServer.Drivers; first += 100)
        {
            var drivers = Enumerable.Range(first, Math.Min(100, WideGatewayServer.Drivers - first + 1)).Select(d => (long)d).ToArray();
            Assert.Null(Check(await client.GetOnlineFeaturesAsync(Request(false, drivers), deadline: DateTime.UtcNow.Add(CallDeadline)), false, drivers));
        }
        // First a burst past the connection's 100-stream limit (what an open loop running behind does), then the loops.
        var burst = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var drivers = Enumerable.Range(0, 100).Select(r => (long)((i * 100 + r) % WideGatewayServer.Drivers + 1)).ToArray();
            try
            {
                return Check(await client.GetOnlineFeaturesAsync(Request(i % 8 == 7, drivers), deadline: DateTime.UtcNow.Add(CallDeadline)), i % 8 == 7, drivers);
            }
            catch (RpcException e)
            {
                return $"{e.StatusCode}: {e.Status.Detail}";
            }
        }));
        report.Add($"burst of 300: {burst.Count(b => b?.StartsWith("DeadlineExceeded", StringComparison.Ordinal) == true)} past their deadline, " +
                   $"{burst.Count(b => b is not null && !b.StartsWith("DeadlineExceeded", StringComparison.Ordinal))} failed{(burst.FirstOrDefault(b => b is not null) is { } f ? $" (first: {f})" : "")}");
        foreach (var loops in new[] { 1, 4, 16 })
        {
            var calls = 0L;
            var deadlineExceeded = 0L;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, loops).Select(loop => Task.Run(async () =>
            {
                var random = new Random(loop);
                for (var i = 0; clock.Elapsed < Phase; i++)
                {
                    var bulky = i % 8 == 7;
                    var drivers = Enumerable.Range(0, 100).Select(_ => (long)random.Next(1, WideGatewayServer.Drivers + 1)).ToArray();
                    try
                    {
                        var response = await client.GetOnlineFeaturesAsync(Request(bulky, drivers), deadline: DateTime.UtcNow.Add(CallDeadline));
                        if (Check(response, bulky, drivers) is { } wrong) failures.Enqueue(wrong);
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
                    {
                        Interlocked.Increment(ref deadlineExceeded);
                    }
                    catch (RpcException e)
                    {
                        failures.Enqueue($"{e.StatusCode}: {e.Status.Detail}");
                    }
                    Interlocked.Increment(ref calls);
                }
            })));
            report.Add($"{loops} loops: {calls} calls, {deadlineExceeded} past their deadline, {failures.Count} failed{(failures.TryPeek(out var first) ? $" (first: {first})" : "")}");
            Assert.True(calls > loops, $"{loops} loops made only {calls} calls in {Phase.TotalSeconds} s");
        }
        output.WriteLine(string.Join(Environment.NewLine, report));
        Assert.All(report, line => Assert.Contains(" 0 past their deadline, 0 failed", line));
    }

    private static GetOnlineFeaturesRequest Request(bool bulky, long[] drivers)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList() };
        if (bulky) request.Features.Val.Add("bulky:text");
        else request.Features.Val.AddRange(Enumerable.Range(0, WideGatewayServer.Features).Select(f => $"wide:{WideGatewayServer.Feature(f)}"));
        request.Entities["driver_id"] = new RepeatedValue { Val = { drivers.Select(d => new Value { Int64Val = d }) } };
        return request;
    }

    // What is wrong with the answer, or null.
    private static string? Check(GetOnlineFeaturesResponse response, bool bulky, long[] drivers)
    {
        var columns = bulky ? 1 : WideGatewayServer.Features;
        if (response.Results.Count != columns + 1) return $"{response.Results.Count} columns, expected {columns + 1}";
        for (var r = 0; r < drivers.Length; r++)
        {
            var d = drivers[r];
            if (response.Results[0].Values[r].Int64Val != d) return $"row {r} is driver {response.Results[0].Values[r].Int64Val}, asked for {d}";
            for (var c = 0; c < columns; c++)
            {
                var value = response.Results[c + 1].Values[r];
                var right = bulky
                    ? value.StringVal == new string((char)('a' + d % 26), WideGatewayServer.TextLength)
                    : value.DoubleVal == d * WideGatewayServer.Features + c;
                if (!right) return $"driver {d} column {c + 1} holds a wrong value ({value.ValCase})";
            }
        }
        return null;
    }
}
