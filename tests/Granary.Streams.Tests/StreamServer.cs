using System.Text;
using System.Text.Json;
using Granary.Gateway;
using Granary.Repository;
using Granary.Testing;
using StackExchange.Redis;

namespace Granary.Streams.Tests;

/// <summary>
/// An embedded silo and gateway over a Redis online store of the fixture's own, with three push sources that each name a
/// Redis stream (a, b, c) and a feature view reading each; offline, each appends to its own Parquet folder.
/// </summary>
public sealed class StreamServer : EmbeddedServerFixture
{
    private readonly RedisServerProcess _redis = new(durable: false);

    public StreamServer() : base("streams", "granary-streams-") { }

    /// <summary>The push sources, their views and streams.</summary>
    public static readonly string[] Names = ["a", "b", "c"];

    public IConnectionMultiplexer Redis { get; private set; } = null!;

    protected override string Yaml => _redis.OnlineStoreYaml;

    protected override async Task StartServersAsync()
    {
        await _redis.StartAsync();
        Redis = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
    }

    protected override void WriteData(TestRepository repository)
    {
        var yaml = new StringBuilder("entities:\n  - name: user\n    join_key: user_id\nsources:\n");
        foreach (var n in Names)
        {
            yaml.Append($"""
                  - name: clicks_{n}_batch
                    type: file
                    path: data/{n}
                    timestamp_field: event_timestamp
                  - name: clicks_{n}
                    type: push
                    batch_source: clicks_{n}_batch
                    stream:
                      type: redis
                      key: clicks-{n}
                      group: granary
                      event_id_field: id
                      event_time_field: ts
                      field_mapping: {"{"}ts: event_timestamp, uid: user_id, n: clicks{"}"}
                      batch_size: 200
                      batch_time: 200ms
                      claim_after: 2s

                """);
        }
        yaml.Append("feature_views:\n");
        foreach (var n in Names)
            yaml.Append($"  - name: view_{n}\n    entities: [user]\n    source: clicks_{n}\n    ttl: 0\n    schema:\n      - name: clicks\n        type: Int64\n      - name: page\n        type: String\n");
        File.WriteAllText(Path.Combine(repository.Root, "definitions.yaml"), yaml.ToString());
        // A seed row per batch folder (user -1), so the sources' schemas are readable before the first push.
        repository.WriteData(data => string.Join("\n", Names.Select(n =>
            $"COPY (SELECT -1::BIGINT AS user_id, TIMESTAMPTZ '2020-01-01 00:00:00+00' AS event_timestamp, 0::BIGINT AS clicks, 'seed' AS page) TO '{Directory.CreateDirectory(Path.Combine(data, n)).FullName}/seed.parquet' (FORMAT parquet);")));
    }

    protected override Task SetUpProjectAsync() => ApplyAsync(FeatureRepositoryLoader.Load(RepositoryRoot).ToSnapshot());

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
    }

    /// <summary>Offline rows of source <paramref name="n"/> as (user, clicks, page), seed row left out.</summary>
    public List<(long User, long Clicks, string Page)> OfflineRows(string n)
    {
        var rows = new List<(long, long, string)>();
        using var connection = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT user_id, clicks, page FROM read_parquet('{Path.Combine(RepositoryRoot, "data", n)}/**/*.parquet', union_by_name => true) WHERE user_id >= 0";
        using var reader = command.ExecuteReader();
        while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2)));
        return rows;
    }

    /// <summary>The online value of view_<paramref name="n"/>:clicks for each user, through the gateway's REST read (null when not found).</summary>
    public async Task<Dictionary<long, long?>> OnlineClicksAsync(string n, IReadOnlyList<long> users)
    {
        var body = JsonSerializer.Serialize(new { features = new[] { $"view_{n}:clicks" }, entities = new Dictionary<string, long[]> { ["user_id"] = [.. users] } });
        using var response = await Http.PostAsync("/get-online-features", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var json = JsonDocument.Parse(text);
        var names = json.RootElement.GetProperty("metadata").GetProperty("feature_names").EnumerateArray().Select(e => e.GetString()).ToList();
        var result = json.RootElement.GetProperty("results")[names.IndexOf("clicks")];
        var values = result.GetProperty("values").EnumerateArray().ToList();
        var statuses = result.GetProperty("statuses").EnumerateArray().Select(s => s.GetString()).ToList();
        var answer = new Dictionary<long, long?>();
        for (var i = 0; i < users.Count; i++) answer[users[i]] = statuses[i] == "PRESENT" ? values[i].GetInt64() : null;
        return answer;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Redis?.Dispose();
        await _redis.DisposeAsync();
    }
}
