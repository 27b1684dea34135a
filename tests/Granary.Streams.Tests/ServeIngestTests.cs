using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Granary.Testing;
using StackExchange.Redis;

namespace Granary.Streams.Tests;

/// <summary>
/// <c>granary serve</c> hosts the stream workers, as the silos of a cluster do: events added to a push source's Redis
/// stream while it serves become readable through its REST API, without a separate <c>granary ingest</c>.
/// </summary>
public sealed class ServeIngestTests : IAsyncLifetime
{
    private readonly RedisServerProcess _redis = new(durable: false);
    private readonly TestRepository _repository = new("granary-serve-ingest-");
    private readonly int[] _ports = FreePorts.Take(2);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        await _repository.WriteGranaryYamlAsync("serveingest",
            $"{_redis.OnlineStoreYaml}endpoints:\n  rest: 127.0.0.1:{_ports[0]}\n  grpc: 127.0.0.1:{_ports[1]}\n  web: off\nsecurity:\n  authorization: off\n");
        File.WriteAllText(Path.Combine(_repository.Root, "definitions.yaml"), """
            entities:
              - name: user
                join_key: user_id
            sources:
              - name: clicks_batch
                type: file
                path: data/clicks
                timestamp_field: event_timestamp
              - name: clicks
                type: push
                batch_source: clicks_batch
                stream:
                  type: redis
                  key: serve-clicks
                  group: granary
                  event_id_field: id
                  event_time_field: ts
                  field_mapping: {ts: event_timestamp, uid: user_id, n: clicks}
                  batch_size: 50
                  batch_time: 200ms
            feature_views:
              - name: user_clicks
                entities: [user]
                source: clicks
                ttl: 0
                schema:
                  - name: clicks
                    type: Int64
            """);
        _repository.WriteData(data =>
            $"COPY (SELECT -1::BIGINT AS user_id, TIMESTAMPTZ '2020-01-01 00:00:00+00' AS event_timestamp, 0::BIGINT AS clicks) TO '{Directory.CreateDirectory(Path.Combine(data, "clicks")).FullName}/seed.parquet' (FORMAT parquet);");
        var applied = await CliRunner.RunAsync("--repo", _repository.Root, "apply").WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(applied.ExitCode == 0, applied.Output);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _redis.DisposeAsync();
        _repository.Dispose();
    }

    [Fact]
    public async Task Events_added_to_a_push_sources_stream_are_served_by_granary_serve()
    {
        using var stop = new CancellationTokenSource();
        var serving = CliRunner.RunAsync(220, ["--repo", _repository.Root, "serve"], stop.Token);
        try
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint).WaitAsync(TimeSpan.FromSeconds(30));
            var db = redis.GetDatabase();
            // 200 events over 10 users; user u's newest event is the one with the highest sequence number.
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            for (var seq = 0; seq < 200; seq++)
            {
                await db.StreamAddAsync("serve-clicks",
                [
                    new("id", $"e-{seq}"),
                    new("ts", start.AddSeconds(seq).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
                    new("uid", (seq % 10).ToString(CultureInfo.InvariantCulture)),
                    new("n", seq.ToString(CultureInfo.InvariantCulture)),
                ]).WaitAsync(TimeSpan.FromSeconds(10));
            }
            var expected = Enumerable.Range(0, 10).Select(u => 190L + u).ToList();
            List<long?> served = [];
            await Eventually.WaitUntil(async () =>
            {
                if (serving.IsCompleted) throw new InvalidOperationException($"serve ended early: {(await serving).Output}");
                served = await ServedClicks.ReadAsync(_http, _ports[0]) ?? served;
                return served.SequenceEqual(expected.Select(e => (long?)e));
            }, TimeSpan.FromSeconds(120), "every user's newest streamed event to be served");
        }
        finally
        {
            stop.Cancel();
        }
        var (exitCode, output) = await serving.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, output);
        Assert.Contains("ingesting clicks <- redis stream 'serve-clicks'", output);
    }
}
