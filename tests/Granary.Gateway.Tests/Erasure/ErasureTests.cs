using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Granary.Audit;
using Granary.Client;
using Granary.Core.Security;
using Granary.Definitions;
using Granary.Registry.Sql;
using Granary.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace Granary.Gateway.Tests.Erasure;

/// <summary>
/// An embedded server (SQLite online store and registry, DuckDB over Parquet) with authorization on: drivers' speeds pushed
/// to a Parquet folder through a push source, drivers' trips materialized from a Parquet file Granary does not write. Role
/// <c>user</c> reads, pushes and materializes; role <c>eraser</c> may only ERASE (granted by name; ALL does not include it).
/// </summary>
public class ErasureServer : EmbeddedServerFixture
{
    public static readonly DateTimeOffset Day = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public ErasureServer() : base("er", "granary-erasure-")
    {
    }

    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>Every served row is logged, in batches written every second.</summary>
    protected override string Yaml => "feature_logging:\n  sample_rate: 1.0\n  flush_every: 1s\n";

    protected override void WriteData(TestRepository repository) => repository.WriteData(data => $"""
            COPY (SELECT i::BIGINT AS driver_id, TIMESTAMPTZ '2024-03-01 06:00:00+00' AS event_timestamp, (i * 10)::BIGINT AS trips
                  FROM range(7340001, 7340011) r(i)) TO '{data}/trips.parquet' (FORMAT parquet);
            """);

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(Definitions());
        await MaterializeAsync("driver_trips", Day.AddDays(-1), Day.AddDays(1));
        foreach (var role in new[] { "user", "eraser" })
            Keys[role] = await CliRunner.CreateApiKeyAsync(RepositoryRoot, $"svc-{role}", role);
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
        o.Security.Authorization = Authorization;
    }

    /// <summary>Whether the gateway checks credentials and permissions.</summary>
    protected virtual bool Authorization => true;

    /// <summary>A client of the gateway's gRPC port with <paramref name="role"/>'s key.</summary>
    public GranaryClient Client(string role) => new(new GranaryClientOptions
    {
        Address = new Uri(Gateway.GrpcUrl), BearerToken = Keys[role], DefaultDeadline = TimeSpan.FromSeconds(60), RetryCount = 0, BreakerFailureThreshold = 0,
    });

    private RegistrySnapshot Definitions() => new()
    {
        Project = Project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new FileSource { Name = "trips_batch", Path = "data/trips.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "speed_batch", Path = "data/speeds", TimestampField = "event_timestamp" },
            new PushSource { Name = "speed_push", BatchSource = "speed_batch" },
        ],
        FeatureViews =
        [
            new FeatureView { Name = "driver_trips", Entities = ["driver"], Source = "trips_batch", Ttl = TimeSpan.FromDays(3650), Features = [new Field("trips", new(ScalarType.Int64))] },
            new FeatureView { Name = "driver_speed", Entities = ["driver"], Source = "speed_push", Ttl = TimeSpan.FromDays(3650), Features = [new Field("speed", new(ScalarType.Float64))] },
        ],
        Permissions =
        [
            new Permission
            {
                Name = "users", Roles = ["user"],
                Actions = [PermissionAction.Describe, PermissionAction.ReadOnline, PermissionAction.ReadOffline, PermissionAction.WriteOnline, PermissionAction.WriteOffline],
            },
            new Permission { Name = "erasers", Types = ["feature_view"], Actions = [PermissionAction.Erase], Roles = ["eraser"] },
        ],
    };
}

/// <summary>
/// Erasure end to end on the embedded server: after <c>POST /erase</c> (or gRPC <c>Erase</c>) the entity is NOT_FOUND
/// online, its pushed rows are gone from historical retrieval while other entities' are unchanged, re-materialization and
/// replayed pushes of old events do not bring it back, a later event is accepted, and the audit log holds the erasure
/// with no value or key in the clear. Each test erases its own drivers (7340001-7340010 exist in the upstream file).
/// </summary>
public sealed class ErasureTests(ErasureServer server) : IClassFixture<ErasureServer>
{
    private static readonly string[] Features = ["driver_speed:speed", "driver_trips:trips"];
    private static readonly DateTimeOffset PushedAt = ErasureServer.Day.AddHours(8);

    private static class Far
    {
        public static readonly DateTimeOffset Past = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public static readonly DateTimeOffset Future = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }

    private static double Speed(long driver) => driver % 1000 + 0.4321;

    private async Task PushAsync(GranaryClient client, IEnumerable<long> drivers, DateTimeOffset at, Func<long, double>? speed = null)
    {
        var rows = drivers.Select(d => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["driver_id"] = d, ["event_timestamp"] = at, ["speed"] = (speed ?? Speed)(d),
        }).ToList();
        await client.PushAsync("speed_push", rows, PushTarget.OnlineAndOffline);
    }

    private static async Task<OnlineFeaturesResult> ReadAsync(GranaryClient client, params long[] drivers)
        => await client.GetOnlineFeaturesAsync(Features, drivers.Select(d => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["driver_id"] = d }).ToList());

    /// <summary>Historical speeds of <paramref name="drivers"/> an hour after the push, by driver (null when none).</summary>
    private static async Task<Dictionary<long, double?>> HistoricalSpeedsAsync(GranaryClient client, params long[] drivers)
    {
        var result = await client.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest
        {
            EntityRows = drivers.Select(d => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["driver_id"] = d, ["event_timestamp"] = PushedAt.AddHours(1) }).ToList(),
            Features = ["driver_speed:speed"], StreamRows = true,
        });
        var id = result.Columns.ToList().IndexOf("driver_id");
        var speed = result.Columns.ToList().IndexOf("speed");
        return result.Rows.ToDictionary(r => Convert.ToInt64(r[id]), r => r[speed] is null ? (double?)null : Convert.ToDouble(r[speed]));
    }

    private async Task<(HttpStatusCode Status, string Body)> PostEraseAsync(string role, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/erase") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Keys[role]);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await server.Http.SendAsync(request, cancel.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancel.Token));
    }

    /// <summary>Rows of the pushed Parquet folder per driver, read with DuckDB directly (the reference, not Granary's reader).</summary>
    private Dictionary<long, long> PushedRowsByDriver()
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT driver_id, count(*) FROM read_parquet('{Path.Combine(server.RepositoryRoot, "data", "speeds", "**", "*.parquet")}') GROUP BY driver_id";
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<long, long>();
        while (reader.Read()) counts[reader.GetInt64(0)] = reader.GetInt64(1);
        return counts;
    }

    /// <summary>Logged rows of <paramref name="driver"/> in <paramref name="view"/>'s feature log served in (after, upTo], read with DuckDB directly.</summary>
    private long LoggedRows(string view, long driver, DateTimeOffset after, DateTimeOffset upTo)
    {
        var folder = Path.Combine(server.RepositoryRoot, "data", "feature_logs", view);
        if (!Directory.Exists(folder) || Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories).Length == 0) return 0;
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM read_parquet('{Path.Combine(folder, "**", "*.parquet")}', union_by_name = true) " +
                              $"WHERE driver_id = {driver} AND request_ts > TIMESTAMPTZ '{Iso(after)}' AND request_ts <= TIMESTAMPTZ '{Iso(upTo)}'";
        return Convert.ToInt64(command.ExecuteScalar());
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture) + "+00";

    private async Task<List<AuditRecord>> AuditAsync()
    {
        var store = new SqliteAuditStore(Path.Combine(server.RepositoryRoot, "data", "audit.db"));
        var records = new List<AuditRecord>();
        await foreach (var record in store.ReadAllAsync()) records.Add(record);
        return records;
    }

    [Fact]
    public async Task An_erased_entity_is_gone_online_and_offline_and_stays_gone_while_others_are_unchanged()
    {
        using var user = server.Client("user");
        long[] drivers = [7340001, 7340002, 7340003, 7340004];
        const long erased = 7340002;
        await PushAsync(user, drivers, PushedAt);
        var before = await ReadAsync(user, drivers);
        for (var i = 0; i < drivers.Length; i++)
        {
            Assert.Equal(Speed(drivers[i]), before.Get(i, "speed").Value);
            Assert.Equal(FeatureStatus.Present, before.Get(i, "trips").Status);
        }
        Assert.Equal(Speed(erased), (await HistoricalSpeedsAsync(user, drivers))[erased]);
        // The reads were logged (feature logging samples every row here).
        await Eventually.WaitUntil(() => LoggedRows("driver_speed", erased, Far.Past, Far.Future) > 0, TimeSpan.FromSeconds(60), "the erased driver's served row in the feature log");

        var (status, body) = await PostEraseAsync("eraser", "{\"entity\": {\"driver_id\": " + erased + "}}");

        Assert.True(status == HttpStatusCode.OK, body);
        using var report = JsonDocument.Parse(body);
        var root = report.RootElement;
        Assert.Equal(["driver_speed", "driver_trips"], root.GetProperty("feature_views").EnumerateArray().Select(v => v.GetString()!).Order().ToArray());
        var places = root.GetProperty("places").EnumerateArray()
            .Select(p => (Kind: p.GetProperty("kind").GetString()!, Name: p.GetProperty("name").GetString()!, Rows: p.GetProperty("rows").GetInt64())).ToList();
        Assert.Contains(places, p => p is { Kind: "online_store", Rows: 2 });
        Assert.Contains(places, p => p is { Kind: "offline_store", Name: "speed_batch", Rows: 1 });
        Assert.Contains(places, p => p is { Kind: "upstream", Name: "trips_batch" });
        Assert.Contains(places, p => p is { Kind: "feature_log", Name: "driver_speed", Rows: > 0 });
        Assert.Equal(1, root.GetProperty("silos_told").GetInt32());
        var keyHash = root.GetProperty("key_hash").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", keyHash);

        // Online: NOT_FOUND for the erased driver in both views, the others as pushed and materialized.
        var after = await ReadAsync(user, drivers);
        for (var i = 0; i < drivers.Length; i++)
        {
            var expected = drivers[i] == erased ? FeatureStatus.NotFound : FeatureStatus.Present;
            Assert.Equal(expected, after.Get(i, "speed").Status);
            Assert.Equal(expected, after.Get(i, "trips").Status);
            if (drivers[i] != erased) Assert.Equal(before.Get(i, "speed").Value, after.Get(i, "speed").Value);
        }
        // Offline: its pushed rows are gone from historical retrieval and from the files; the others' unchanged.
        var historical = await HistoricalSpeedsAsync(user, drivers);
        Assert.Null(historical[erased]);
        foreach (var d in drivers.Where(d => d != erased)) Assert.Equal(Speed(d), historical[d]);
        Assert.False(PushedRowsByDriver().ContainsKey(erased));

        // Re-materializing the upstream file (which still holds the driver) and replaying the old push do not bring it back.
        await server.MaterializeAsync("driver_trips", ErasureServer.Day.AddDays(-1), ErasureServer.Day.AddDays(1));
        await PushAsync(user, [erased], PushedAt);
        var replayed = await ReadAsync(user, erased);
        Assert.Equal(FeatureStatus.NotFound, replayed.Get(0, "speed").Status);
        Assert.Equal(FeatureStatus.NotFound, replayed.Get(0, "trips").Status);
        Assert.False(PushedRowsByDriver().ContainsKey(erased));
        Assert.Null((await HistoricalSpeedsAsync(user, erased))[erased]);

        // The feature logs hold no row of the driver served before the erasure, even one queued then and flushed after:
        // once a read of another driver made after the erasure is logged, every earlier row has been written.
        var erasedAt = DateTimeOffset.Parse(root.GetProperty("erased_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.WaitUntil(() => LoggedRows("driver_speed", drivers[0], erasedAt, Far.Future) > 0, TimeSpan.FromSeconds(60), "a read made after the erasure in the feature log");
        Assert.Equal(0, LoggedRows("driver_speed", erased, Far.Past, erasedAt));
        Assert.Equal(0, LoggedRows("driver_trips", erased, Far.Past, erasedAt));

        // What the write paths dropped is counted per view and path.
        using (var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            var metrics = await server.Http.GetStringAsync("/metrics", cancel.Token);
            Assert.Contains("granary_erased_rows_dropped_total{feature_view=\"driver_speed\",path=\"push\"}", metrics);
            Assert.Contains("granary_erased_rows_dropped_total{feature_view=\"driver_trips\",path=\"materialization\"}", metrics);
        }

        // A later event of the same driver is new data, accepted by design.
        await PushAsync(user, [erased], erasedAt.AddSeconds(1), _ => 55.5);
        Assert.Equal(55.5, (await ReadAsync(user, erased)).Get(0, "speed").Value);

        // The audit log: one ERASE record per view with the key's hash and counts, and neither the key nor a value anywhere in it.
        var records = (await AuditAsync()).Where(r => r.Entry.Action == "ERASE" && r.Entry.Detail.Contains(keyHash, StringComparison.Ordinal)).ToList();
        Assert.Equal(["driver_speed", "driver_trips"], records.Select(r => r.Entry.ObjectName).Order().ToArray());
        Assert.All(records, r => Assert.Equal(("svc-eraser", "apikey", "POST /erase"), (r.Entry.Principal, r.Entry.AuthMethod, r.Entry.Route)));
        Assert.Contains("offline_store speed_batch=1", records.Single(r => r.Entry.ObjectName == "driver_speed").Entry.Detail);
        Assert.Contains("upstream trips_batch", records.Single(r => r.Entry.ObjectName == "driver_trips").Entry.Detail);
        // (The online store's file is left out: the later push above stored the driver there again, legitimately.)
        foreach (var file in Directory.GetFiles(Path.Combine(server.RepositoryRoot, "data")).Where(f => Path.GetFileName(f).StartsWith("audit.db", StringComparison.Ordinal)
                     || Path.GetFileName(f).StartsWith("registry.db", StringComparison.Ordinal)))
        {
            var bytes = Encoding.Latin1.GetString(await ReadSharedAsync(file));
            Assert.DoesNotContain(erased.ToString(System.Globalization.CultureInfo.InvariantCulture), bytes);
        }
        var verify = await AuditChain.VerifyAsync(new SqliteAuditStore(Path.Combine(server.RepositoryRoot, "data", "audit.db")).ReadAllAsync());
        Assert.True(verify.Ok, verify.Problem);
    }

    [Fact]
    public async Task Grpc_erase_of_one_view_leaves_the_other_view_of_the_entity()
    {
        using var user = server.Client("user");
        using var eraser = server.Client("eraser");
        const long driver = 7340005;
        await PushAsync(user, [driver], PushedAt);

        var result = await eraser.EraseAsync(new Dictionary<string, string> { ["driver_id"] = "7340005" }, ["driver_speed"]);

        Assert.Equal(["driver_speed"], result.FeatureViews);
        Assert.Contains(result.Places, p => p is { Kind: "online_store", Rows: 1 });
        Assert.DoesNotContain(result.Places, p => p.Kind == "upstream");
        var read = await ReadAsync(user, driver);
        Assert.Equal(FeatureStatus.NotFound, read.Get(0, "speed").Status);
        Assert.Equal(FeatureStatus.Present, read.Get(0, "trips").Status);
        Assert.Equal(73400050L, read.Get(0, "trips").Value);
    }

    [Fact]
    public async Task Bad_requests_answer_400_naming_the_value_and_erasing_needs_the_erase_permission()
    {
        Assert.Equal((HttpStatusCode.BadRequest, "nope"), await StatusAndEcho("eraser", """{"entity": {"driver_id": "nope"}}""", "nope"));
        Assert.Equal((HttpStatusCode.BadRequest, "no_such_view"), await StatusAndEcho("eraser", """{"entity": {"driver_id": 7340006}, "feature_views": ["no_such_view"]}""", "no_such_view"));
        Assert.Equal((HttpStatusCode.BadRequest, "rider_id"), await StatusAndEcho("eraser", """{"entity": {"rider_id": 7340006}}""", "rider_id"));
        Assert.Equal((HttpStatusCode.BadRequest, "entity.driver_id"), await StatusAndEcho("eraser", """{"entity": {"driver_id": [1]}}""", "entity.driver_id"));
        Assert.Equal((HttpStatusCode.BadRequest, "'entity'"), await StatusAndEcho("eraser", """{"feature_views": ["driver_speed"]}""", "'entity'"));
        // The user role may read and write everything, but ERASE is granted only by name: 403, and nothing is erased.
        var (status, body) = await PostEraseAsync("user", """{"entity": {"driver_id": 7340006}}""");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("may not ERASE feature_view", body);

        using var user = server.Client("user");
        var denied = await Assert.ThrowsAsync<GranaryClientException>(() => user.EraseAsync(new Dictionary<string, string> { ["driver_id"] = "7340006" }));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        using var eraser = server.Client("eraser");
        var invalid = await Assert.ThrowsAsync<GranaryClientException>(() => eraser.EraseAsync(new Dictionary<string, string> { ["driver_id"] = "12x" }));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("'12x'", invalid.Message);
        Assert.Equal(FeatureStatus.Present, (await ReadAsync(user, 7340006)).Get(0, "trips").Status);
    }

    private async Task<(HttpStatusCode, string)> StatusAndEcho(string role, string json, string expected)
    {
        var (status, body) = await PostEraseAsync(role, json);
        Assert.True(body.Contains(expected, StringComparison.Ordinal), body);
        return (status, expected);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
