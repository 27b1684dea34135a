using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Granary.Testing;
using StackExchange.Redis;

namespace Granary.Streams.Tests;

/// <summary>
/// Data rules on stream ingestion through <c>granary serve</c>: an event breaking a reject rule goes to the dead-letter
/// stream with the rule in its reason and is acknowledged, so the stream flows on; an event breaking a quarantine rule is
/// set aside (<c>granary quarantine list</c> shows it) and acknowledged; the valid events are served.
/// </summary>
public sealed class StreamDataRuleTests : IAsyncLifetime
{
    private readonly RedisServerProcess _redis = new(durable: false);
    private readonly TestRepository _repository = new("granary-stream-rules-");
    private readonly int[] _ports = FreePorts.Take(2);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        await _repository.WriteGranaryYamlAsync("streamrules",
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
                  key: rule-clicks
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
                    rules:
                      min: 0
                      max: {value: 1000, on_break: quarantine}
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

    // Event seq: user seq % 10, clicks seq; every 17th (from 5) has -1 clicks (reject), every 23rd (from 7) 5000 (quarantine).
    private static bool Rejected(int seq) => seq % 17 == 5;
    private static bool Quarantined(int seq) => !Rejected(seq) && seq % 23 == 7;

    [Fact]
    public async Task Breaking_events_are_dead_lettered_or_quarantined_and_acknowledged_while_the_valid_ones_are_served()
    {
        using var stop = new CancellationTokenSource();
        var serving = CliRunner.RunAsync(220, ["--repo", _repository.Root, "serve"], stop.Token);
        try
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint).WaitAsync(TimeSpan.FromSeconds(30));
            var db = redis.GetDatabase();
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            for (var seq = 0; seq < 200; seq++)
            {
                var clicks = Rejected(seq) ? -1 : Quarantined(seq) ? 5000 : seq;
                await db.StreamAddAsync("rule-clicks",
                [
                    new("id", $"e-{seq}"),
                    new("ts", start.AddSeconds(seq).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
                    new("uid", (seq % 10).ToString(CultureInfo.InvariantCulture)),
                    new("n", clicks.ToString(CultureInfo.InvariantCulture)),
                ]).WaitAsync(TimeSpan.FromSeconds(10));
            }
            // Each user's newest valid event (newest wins among the rows stored; refused and held rows never reach the store).
            var expected = Enumerable.Range(0, 10)
                .Select(u => (long?)Enumerable.Range(0, 200).Where(s => s % 10 == u && !Rejected(s) && !Quarantined(s)).Max()).ToList();
            List<long?> served = [];
            await Eventually.WaitUntil(async () =>
            {
                if (serving.IsCompleted) throw new InvalidOperationException($"serve ended early: {(await serving).Output}");
                served = await ServedClicks.ReadAsync(_http, _ports[0]) ?? served;
                // The consumer group exists once serve's worker has started.
                var groups = (await db.StreamGroupInfoAsync("rule-clicks")).Where(g => g.Name == "granary").ToList();
                return served.SequenceEqual(expected) && groups is [{ PendingMessageCount: 0, Lag: 0 or null }];
            }, TimeSpan.FromSeconds(120), "every user's newest valid event to be served and every event acknowledged");

            var dead = await db.StreamRangeAsync("rule-clicks:dead-letter").WaitAsync(TimeSpan.FromSeconds(10));
            var rejected = Enumerable.Range(0, 200).Where(Rejected).Select(s => $"e-{s}").ToList();
            Assert.Equal(rejected, dead.Select(d => (string)d["event.id"]!).OrderBy(id => int.Parse(id[2..], CultureInfo.InvariantCulture)));
            Assert.All(dead, d => Assert.Contains("value -1 of 'clicks' breaks rule clicks.min (min 0, reject) of feature view 'user_clicks'", (string)d["reason"]!));
        }
        finally
        {
            stop.Cancel();
        }
        var (exitCode, output) = await serving.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, output);

        var listed = await CliRunner.RunAsync("--repo", _repository.Root, "quarantine", "list", "--limit", "100").WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(listed.ExitCode == 0, listed.Output);
        var held = Enumerable.Range(0, 200).Count(Quarantined);
        Assert.Matches($@"user_clicks\s*│\s*clicks\.max\s*│\s*{held}\s", listed.Output);
    }
}
