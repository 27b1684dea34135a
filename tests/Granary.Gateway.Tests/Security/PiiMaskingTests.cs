using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Feast.Serving;
using Feast.Types;
using Granary.Cli;
using Granary.Client;
using Granary.Core.Security;
using Granary.Gateway.FeatureHealth;
using Granary.Gateway.Security;
using Granary.Gateway.V1;
using Granary.Repository;
using Granary.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests.Security;

/// <summary>
/// A repository with features tagged <c>pii</c> in every mode (granary.yaml's default mask with its own text, hash and
/// mask by tag, a view refused as a whole with one feature opted out), two API keys (role <c>reader</c>: DESCRIBE, READ_ONLINE,
/// READ_OFFLINE; role <c>privileged</c>: those and READ_UNMASKED), authorization on, every served row logged.
/// </summary>
/// <remarks>
/// Users 1-3 have a row 2 h old (users 1 and 2 share ssn and account number, so their hashes must be equal); user 1 also
/// has a newer row 30 min old that materialization (up to 1 h ago) leaves out, so parity shows a mismatch for user 1.
/// </remarks>
public sealed class PiiServer : EmbeddedServerFixture
{
    public PiiServer() : base("pii", "granary-pii-")
    {
    }

    public const string Salt = "a-test-masking-salt-0123456789";
    public const string MaskText = "[redacted]";
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);
    public GrpcChannel Channel { get; private set; } = null!;
    public FeatureLogger FeatureLogger => Gateway.Services.GetRequiredService<FeatureLogger>();

    protected override string Yaml => $"""
        masking:
          mode: mask
          mask: "{MaskText}"
        feature_logging:
          sample_rate: 1.0
          flush_every: 1s

        """;

    public const string DefinitionsYaml = """
        entities:
          - name: user
            join_key: user_id
            value_type: Int64
        sources:
          - name: users_source
            type: file
            path: data/users.parquet
            timestamp_field: event_timestamp
        feature_views:
          - name: user_profile
            entities: [user]
            source: users_source
            ttl: 30d
            schema:
              - {name: email, type: String, tags: {pii: "true"}}
              - {name: ssn, type: String, tags: {pii: hash}}
              - {name: account_no, type: Int64, tags: {pii: hash}}
              - {name: age, type: Int64, tags: {pii: mask}}
              - {name: score, type: Float64}
          - name: user_secrets
            entities: [user]
            source: users_source
            ttl: 30d
            tags: {pii: refuse}
            schema:
              - {name: passport, type: String}
              - {name: score, type: Float64, tags: {pii: "false"}}
        permissions:
          - name: readers
            actions: [DESCRIBE, READ_ONLINE, READ_OFFLINE]
            policy: {roles: [reader, privileged]}
          - name: unmasked
            types: [feature_view]
            actions: [READ_UNMASKED]
            policy: {roles: [privileged]}

        """;

    protected override void WriteData(TestRepository repository)
    {
        Directory.CreateDirectory(Path.Combine(RepositoryRoot, "features"));
        File.WriteAllText(Path.Combine(RepositoryRoot, "features", "users.yaml"), DefinitionsYaml);
        string At(TimeSpan ago) => "TIMESTAMPTZ '" + (Now - ago).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'";
        repository.WriteData(data => $"""
            COPY (
              SELECT * FROM (VALUES
                (1::BIGINT, {At(TimeSpan.FromHours(2))}, 'ann@example.com', '123-45-6789', 4001::BIGINT, 34::BIGINT, 0.5::DOUBLE, 'P111'),
                (2::BIGINT, {At(TimeSpan.FromHours(2))}, 'bob@example.com', '123-45-6789', 4001::BIGINT, 41::BIGINT, 0.7::DOUBLE, 'P222'),
                (3::BIGINT, {At(TimeSpan.FromHours(2))}, 'cy@example.com', '987-65-4321', 4003::BIGINT, 29::BIGINT, 0.9::DOUBLE, 'P333'),
                (1::BIGINT, {At(TimeSpan.FromMinutes(30))}, 'ann@new.example.com', '111-11-1111', 4009::BIGINT, 35::BIGINT, 0.55::DOUBLE, 'P999')
              ) t(user_id, event_timestamp, email, ssn, account_no, age, score, passport)
            ) TO '{data}/users.parquet' (FORMAT parquet);
            """);
    }

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(FeatureRepositoryLoader.Load(RepositoryRoot).ToSnapshot());
        foreach (var view in new[] { "user_profile", "user_secrets" }) await MaterializeAsync(view, Now.AddDays(-10), Now.AddHours(-1));
        foreach (var role in new[] { "reader", "privileged" }) Keys[role] = await PiiMaskingTests.CreateKeyAsync(RepositoryRoot, role);
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
        o.Security.Authorization = true;
        o.Masking.Salt = Salt;
    }

    protected override HttpClient CreateHttpClient(Uri restUrl) => new() { BaseAddress = restUrl, Timeout = TimeSpan.FromMinutes(2) };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Channel = GrpcChannel.ForAddress(Gateway.GrpcUrl);
    }

    public override async Task DisposeAsync()
    {
        Channel?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>
/// PII masking on every read path, for a principal with READ_UNMASKED and one without: online over REST, both gRPC
/// services, the C# SDK and the CLI's <c>--server</c>; historical rows; the catalog; parity and drift reports; feature logs.
/// Expected hashes are computed here from the documented rule (HMAC-SHA256 keyed by the salt over the value's invariant
/// text; strings as the first 16 bytes in hex, Int64 as the first 8 bytes big-endian).
/// </summary>
public sealed class PiiMaskingTests(PiiServer server) : IClassFixture<PiiServer>
{
    internal static readonly string[] ProfileFeatures =
        ["user_profile:email", "user_profile:ssn", "user_profile:account_no", "user_profile:age", "user_profile:score"];

    internal static string HashText(string value, string salt = PiiServer.Salt)
        => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(salt), Encoding.UTF8.GetBytes(value)).AsSpan(0, 16));

    internal static long HashInt64(long value, string salt = PiiServer.Salt)
        => BinaryPrimitives.ReadInt64BigEndian(HMACSHA256.HashData(Encoding.UTF8.GetBytes(salt), Encoding.UTF8.GetBytes(value.ToString(CultureInfo.InvariantCulture))));

    /// <summary>What users 1-3 read as, per feature of <see cref="ProfileFeatures"/>, with READ_UNMASKED.</summary>
    internal static readonly object?[][] Clear =
    [
        ["ann@example.com", "123-45-6789", 4001L, 34L, 0.5],
        ["bob@example.com", "123-45-6789", 4001L, 41L, 0.7],
        ["cy@example.com", "987-65-4321", 4003L, 29L, 0.9],
    ];

    /// <summary>What users 1-3 read as without it: the default mask text, the hashes, null for a number masked, the score in the clear.</summary>
    internal static readonly object?[][] Masked =
    [
        [PiiServer.MaskText, HashText("123-45-6789"), HashInt64(4001), null, 0.5],
        [PiiServer.MaskText, HashText("123-45-6789"), HashInt64(4001), null, 0.7],
        [PiiServer.MaskText, HashText("987-65-4321"), HashInt64(4003), null, 0.9],
    ];

    public static IEnumerable<object[]> Principals() => [["privileged"], ["reader"]];

    private const string OtherSalt = "another-salt-of-enough-length";

    internal static object?[][] Expected(string role) => role == "privileged" ? Clear : Masked;

    [Fact]
    public void Hashes_are_equal_for_equal_values_and_differ_across_values_and_salts()
    {
        Assert.Equal(Masked[0][1], Masked[1][1]);
        Assert.Equal(Masked[0][2], Masked[1][2]);
        Assert.NotEqual(Masked[0][1], Masked[2][1]);
        var other = new PiiMasker(salt: OtherSalt);
        var mine = new PiiMasker(salt: PiiServer.Salt);
        var type = new Definitions.ValueType(Definitions.ScalarType.String);
        Assert.Equal(HashText("123-45-6789"), mine.Mask("123-45-6789", type, MaskingMode.Hash));
        Assert.NotEqual(mine.Mask("123-45-6789", type, MaskingMode.Hash), other.Mask("123-45-6789", type, MaskingMode.Hash));
        // 12 as Int32 and as Int64 hash alike (the invariant text), so a join across the two types still matches.
        Assert.Equal((int)(HashInt64(12) >> 32), mine.Mask(12, new Definitions.ValueType(Definitions.ScalarType.Int32), MaskingMode.Hash));
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task Online_reads_over_rest_are_clear_with_read_unmasked_and_masked_without(string role)
    {
        var (status, body) = await PostAsync("/get-online-features", server.Keys[role],
            JsonSerializer.Serialize(new { features = ProfileFeatures, entities = new { user_id = new[] { 1, 2, 3 } } }));
        Assert.True(status == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var results = json.RootElement.GetProperty("results");
        var expected = Expected(role);
        for (var f = 0; f < ProfileFeatures.Length; f++)
        {
            var column = results[f + 1];
            for (var r = 0; r < 3; r++)
            {
                // A value masked to null is NULL_VALUE, as Feast's RemoteOnlineStore needs (it types every PRESENT value).
                Assert.Equal(expected[r][f] is null ? "NULL_VALUE" : "PRESENT", column.GetProperty("statuses")[r].GetString());
                var value = column.GetProperty("values")[r];
                object? actual = value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.String => value.GetString(),
                    _ when expected[r][f] is double => value.GetDouble(),
                    _ => value.GetInt64(),
                };
                Assert.Equal(expected[r][f], actual);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task Online_reads_over_both_grpc_services_keep_the_declared_types(string role)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { ProfileFeatures } } };
        request.Entities["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 }, new Value { Int64Val = 2 }, new Value { Int64Val = 3 } } };
        var headers = Bearer(server.Keys[role]);
        var feast = await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(request, headers, DateTime.UtcNow.AddSeconds(30));
        var granary = await new V1.Granary.GranaryClient(server.Channel).GetOnlineFeaturesAsync(request, headers, DateTime.UtcNow.AddSeconds(30));
        foreach (var response in new[] { feast, granary })
        {
            var expected = Expected(role);
            for (var f = 0; f < ProfileFeatures.Length; f++)
                for (var r = 0; r < 3; r++)
                {
                    var value = response.Results[f + 1].Values[r];
                    Assert.Equal(expected[r][f] is null ? FieldStatus.NullValue : FieldStatus.Present, response.Results[f + 1].Statuses[r]);
                    // A masked number is an unset Value (Feast's null), never a string in an Int64 column.
                    Assert.Equal(expected[r][f], Of(value));
                }
        }
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task The_sdk_reads_clear_or_masked_values(string role)
    {
        using var client = new GranaryClient(new GranaryClientOptions { Address = new Uri(server.Gateway.GrpcUrl), BearerToken = server.Keys[role], DefaultDeadline = TimeSpan.FromSeconds(30) });
        var rows = new[] { 1L, 2L, 3L }.Select(id => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["user_id"] = id }).ToList();
        var result = await client.GetOnlineFeaturesAsync(ProfileFeatures, rows);
        var expected = Expected(role);
        for (var r = 0; r < 3; r++)
            for (var f = 0; f < ProfileFeatures.Length; f++)
                Assert.Equal(expected[r][f], result.Get(r, ProfileFeatures[f].Split(':')[1]).Value);
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task The_cli_reads_through_the_server_clear_or_masked(string role)
    {
        var (code, output) = await RunCliProcessAsync(server.Keys[role],
            "get-online-features", "--features", "user_profile:email,user_profile:ssn", "--entity", "user_id=1", "--json", "--server", server.Gateway.GrpcUrl);
        Assert.True(code == 0, output);
        if (role == "privileged")
        {
            Assert.Contains("ann@example.com", output);
            Assert.Contains("123-45-6789", output);
        }
        else
        {
            Assert.DoesNotContain("ann@example.com", output);
            Assert.DoesNotContain("123-45-6789", output);
            Assert.Contains(PiiServer.MaskText, output);
            Assert.Contains(HashText("123-45-6789"), output);
        }
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task Historical_rows_are_clear_or_masked(string role)
    {
        var at = server.Now.AddHours(-1).ToUnixTimeSeconds();
        var rows = new EntityRows();
        rows.Columns["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 }, new Value { Int64Val = 2 }, new Value { Int64Val = 3 } } };
        rows.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = at }, new Value { UnixTimestampVal = at }, new Value { UnixTimestampVal = at } } };
        var request = new GetHistoricalFeaturesRequest { EntityRows = rows, Features = { ProfileFeatures }, StreamRows = true };
        using var call = new V1.Granary.GranaryClient(server.Channel).GetHistoricalFeatures(request, Bearer(server.Keys[role]), DateTime.UtcNow.AddMinutes(2));
        List<string>? columns = null;
        var values = new List<RepeatedValue>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == HistoricalFeaturesEvent.EventOneofCase.Result) columns = [.. e.Result.Columns];
            if (e.EventCase == HistoricalFeaturesEvent.EventOneofCase.Rows)
                for (var c = 0; c < e.Rows.Columns.Count; c++)
                {
                    if (values.Count <= c) values.Add(new RepeatedValue());
                    values[c].Val.AddRange(e.Rows.Columns[c].Val);
                }
        }
        Assert.NotNull(columns);
        var user = values[columns.IndexOf("user_id")].Val.Select(v => v.Int64Val).ToList();
        var expected = Expected(role);
        for (var f = 0; f < ProfileFeatures.Length; f++)
        {
            var column = values[columns.IndexOf(ProfileFeatures[f].Split(':')[1])].Val;
            for (var i = 0; i < column.Count; i++)
            {
                Assert.Equal(expected[(int)user[i] - 1][f], Of(column[i]));
            }
        }
    }

    [Fact]
    public async Task A_historical_result_file_is_refused_without_read_unmasked_and_written_with_it()
    {
        var at = server.Now.AddHours(-1).ToUnixTimeSeconds();
        var rows = new EntityRows();
        rows.Columns["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        rows.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = at } } };
        // Request paths stay inside the silo's request-files folder (the repository's data/).
        var output = Path.Combine(server.Repository.DataDirectory, $"pii-{Guid.NewGuid():N}.parquet");
        try
        {
            async Task RunAsync(string role)
            {
                var request = new GetHistoricalFeaturesRequest { EntityRows = rows, Features = { "user_profile:ssn" }, OutputPath = output };
                using var call = new V1.Granary.GranaryClient(server.Channel).GetHistoricalFeatures(request, Bearer(server.Keys[role]), DateTime.UtcNow.AddMinutes(2));
                await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
            }
            var refused = await Assert.ThrowsAsync<RpcException>(() => RunAsync("reader"));
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Contains("feature 'ssn' (tagged pii) to 'output_path'", refused.Status.Detail);
            Assert.False(File.Exists(output));
            await RunAsync("privileged");
            Assert.True(File.Exists(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Refusal_mode_answers_403_and_permission_denied_naming_the_feature_and_the_action()
    {
        const string role = "reader";
        var (status, body) = await PostAsync("/get-online-features", server.Keys[role],
            """{"features": ["user_secrets:passport"], "entities": {"user_id": [1]}}""");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("feature 'user_secrets:passport'", body);
        Assert.Contains("READ_UNMASKED", body);

        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "user_secrets:passport" } } };
        request.Entities["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var denied = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel)
            .GetOnlineFeaturesAsync(request, Bearer(server.Keys[role]), DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("feature 'user_secrets:passport'", denied.Status.Detail);
        Assert.Contains("READ_UNMASKED", denied.Status.Detail);

        // A feature of the refused view tagged pii: "false" is opted out and served to the same principal.
        var (optedOut, optedOutBody) = await PostAsync("/get-online-features", server.Keys[role],
            """{"features": ["user_secrets:score"], "entities": {"user_id": [1]}}""");
        Assert.True(optedOut == HttpStatusCode.OK, optedOutBody);
        Assert.Contains("0.5", optedOutBody);

        var (allowed, allowedBody) = await PostAsync("/get-online-features", server.Keys["privileged"],
            """{"features": ["user_secrets:passport"], "entities": {"user_id": [1]}}""");
        Assert.True(allowed == HttpStatusCode.OK, allowedBody);
        Assert.Contains("P111", allowedBody);
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task Parity_mismatches_show_values_clear_or_masked_and_drift_shows_none(string role)
    {
        var (status, body) = await PostAsync("/parity", server.Keys[role], """{"views": ["user_profile"], "sample": 10}""");
        Assert.True(status == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var mismatches = json.RootElement.GetProperty("views")[0].GetProperty("mismatches").EnumerateArray()
            .ToDictionary(m => m.GetProperty("feature").GetString()!, m => (Offline: m.GetProperty("offline").ToString(), Online: m.GetProperty("online").ToString()));
        // User 1's newer row (30 min ago) is offline only.
        if (role == "privileged")
        {
            Assert.Equal(("ann@new.example.com", "ann@example.com"), mismatches["email"]);
            Assert.Equal(("111-11-1111", "123-45-6789"), mismatches["ssn"]);
            Assert.Equal(("4009", "4001"), mismatches["account_no"]);
            Assert.Equal(("35", "34"), mismatches["age"]);
        }
        else
        {
            Assert.Equal((PiiServer.MaskText, PiiServer.MaskText), mismatches["email"]);
            Assert.Equal((HashText("111-11-1111"), HashText("123-45-6789")), mismatches["ssn"]);
            Assert.Equal((HashInt64(4009).ToString(CultureInfo.InvariantCulture), HashInt64(4001).ToString(CultureInfo.InvariantCulture)), mismatches["account_no"]);
            Assert.Equal(("", ""), mismatches["age"]);
            Assert.DoesNotContain("example.com", body);
        }
        Assert.Equal(("0.55", "0.5"), mismatches["score"]);
        // The last result, read back, is masked the same way.
        var (lastStatus, last) = await GetAsync("/api/health/parity", server.Keys[role]);
        Assert.True(lastStatus == HttpStatusCode.OK, last);
        Assert.Equal(role == "privileged", last.Contains("ann@example.com", StringComparison.Ordinal));

        // Drift shows statistics, never values, and leaves PII features out: their served values are logged masked.
        var (driftStatus, drift) = await PostAsync("/drift", server.Keys[role], """{"baseline": "data/users.parquet", "views": ["user_profile"], "window": "24h"}""");
        Assert.True(driftStatus == HttpStatusCode.OK, drift);
        using var driftJson = JsonDocument.Parse(drift);
        Assert.Equal(["score"], driftJson.RootElement.GetProperty("views")[0].GetProperty("features").EnumerateArray().Select(f => f.GetProperty("feature").GetString()));

        // A report is not a read of the values it happens to show: features masked by refusal show the fixed mask there.
        var (secrets, secretsBody) = await PostAsync("/parity", server.Keys[role], """{"views": ["user_secrets"], "sample": 10}""");
        Assert.True(secrets == HttpStatusCode.OK, secretsBody);
        using var secretJson = JsonDocument.Parse(secretsBody);
        var passport = secretJson.RootElement.GetProperty("views")[0].GetProperty("mismatches").EnumerateArray().Single(m => m.GetProperty("feature").GetString() == "passport");
        Assert.Equal(role == "privileged" ? ("P999", "P111") : (PiiServer.MaskText, PiiServer.MaskText),
            (passport.GetProperty("offline").GetString(), passport.GetProperty("online").GetString()));
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task The_catalog_shows_which_features_are_pii_and_no_values(string role)
    {
        var (status, body) = await GetAsync("/api/catalog/feature-views/user_profile", server.Keys[role]);
        Assert.True(status == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var pii = json.RootElement.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("pii").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { ["email"] = true, ["ssn"] = true, ["account_no"] = true, ["age"] = true, ["score"] = false }, pii);
        Assert.DoesNotContain("example.com", body);
    }

    [Fact]
    public async Task Feature_logs_hold_pii_masked_whoever_read_it()
    {
        await Eventually.WaitUntil(() => server.FeatureLogger.Ready, TimeSpan.FromSeconds(60), "feature logging's settings from the silo");
        var read = JsonSerializer.Serialize(new { features = ProfileFeatures, entities = new { user_id = new[] { 1, 2, 3 } } });
        var (status, body) = await PostAsync("/get-online-features", server.Keys["privileged"], read);
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Contains("ann@example.com", body); // the privileged reader got the clear value ...
        Assert.True(await server.FeatureLogger.DrainAsync(TimeSpan.FromSeconds(60)), "feature log not written within 60 s");

        var folder = Path.Combine(server.RepositoryRoot, "data", "feature_logs", "user_profile");
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT user_id, email, ssn, account_no, age, score, age__status FROM read_parquet('{folder}/**/*.parquet', union_by_name = true)
            """;
        using var reader = command.ExecuteReader();
        var logged = 0;
        while (reader.Read())
        {
            // Other tests' reads are logged too, some with fewer features (NULL where not read), some by the gateways of
            // another test (another salt; no salt, where hash falls back to the fixed mask); every value logged is what a
            // reader without READ_UNMASKED gets from one of them.
            var user = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            var ssn = (string)Clear[user - 1][1]!;
            var account = (long)Clear[user - 1][2]!;
            if (!reader.IsDBNull(1)) Assert.Equal(Masked[user - 1][0], reader.GetString(1));
            if (!reader.IsDBNull(2)) Assert.Contains(reader.GetString(2), new[] { HashText(ssn), HashText(ssn, OtherSalt), PiiServer.MaskText });
            Assert.True(reader.IsDBNull(4));
            if (!reader.IsDBNull(6)) Assert.Equal("NULL_VALUE", reader.GetString(6)); // masked to null, logged as served
            if (reader.IsDBNull(3)) continue;
            Assert.Contains(reader.GetInt64(3), new[] { HashInt64(account), HashInt64(account, OtherSalt) });
            Assert.Equal(Masked[user - 1][4], reader.GetDouble(5));
            logged++;
        }
        Assert.True(logged >= 3, $"{logged} rows logged");
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var secret in new[] { "ann@example.com", "123-45-6789" })
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"'{secret}' in {file}");
        }
    }

    [Fact]
    public async Task Another_salt_gives_other_hashes_and_authorization_off_serves_values_clear()
    {
        await using var other = await AnotherGatewayAsync(o => o.Masking.Salt = OtherSalt);
        using var http = new HttpClient { BaseAddress = new Uri(other.RestUrl), Timeout = TimeSpan.FromMinutes(1) };
        var (_, masked) = await PostAsync(http, "/get-online-features", server.Keys["reader"], """{"features": ["user_profile:ssn"], "entities": {"user_id": [1]}}""");
        Assert.Contains(HashText("123-45-6789", OtherSalt), masked);
        Assert.DoesNotContain(HashText("123-45-6789"), masked);

        await using var open = await AnotherGatewayAsync(o => o.Security.Authorization = false);
        using var anonymous = new HttpClient { BaseAddress = new Uri(open.RestUrl), Timeout = TimeSpan.FromMinutes(1) };
        var (status, clear) = await PostAsync(anonymous, "/get-online-features", null, """{"features": ["user_profile:ssn", "user_secrets:passport"], "entities": {"user_id": [1]}}""");
        Assert.True(status == HttpStatusCode.OK, clear);
        Assert.Contains("123-45-6789", clear);
        Assert.Contains("P111", clear);
    }

    [Fact]
    public async Task A_feature_hashed_by_its_tag_at_a_gateway_without_a_salt_is_a_failed_precondition_naming_the_setting()
    {
        await using var unsalted = await AnotherGatewayAsync(_ => { });
        using var http = new HttpClient { BaseAddress = new Uri(unsalted.RestUrl), Timeout = TimeSpan.FromMinutes(1) };
        var (status, body) = await PostAsync(http, "/get-online-features", server.Keys["reader"], """{"features": ["user_profile:ssn"], "entities": {"user_id": [1]}}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("feature 'user_profile:ssn' is tagged pii and masked by hash, but this gateway has no masking salt", body);
        Assert.Contains("Granary__Gateway__Masking__Salt", body);
        // Features in other modes are served masked as usual (granary.yaml's mask text: the gateway reads the repository's masking:).
        var (fine, masked) = await PostAsync(http, "/get-online-features", server.Keys["reader"], """{"features": ["user_profile:email"], "entities": {"user_id": [1]}}""");
        Assert.True(fine == HttpStatusCode.OK, masked);
        Assert.Contains(PiiServer.MaskText, masked);
    }

    [Fact]
    public async Task Hash_mode_without_a_salt_does_not_start_and_says_which_setting_is_missing()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => AnotherGatewayAsync(o => o.Masking.Mode = MaskingMode.Hash));
        Assert.Contains("Granary:Gateway:Masking:Mode is Hash", error.Message);
        Assert.Contains("Granary__Gateway__Masking__Salt", error.Message);
    }

    [Fact]
    public async Task Unmasked_reads_and_refusals_are_audited_and_masked_reads_are_no_denial()
    {
        var body = """{"features": ["user_profile:ssn"], "entities": {"user_id": [2]}}""";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/get-online-features", server.Keys["privileged"], body)).Item1);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/get-online-features", server.Keys["reader"], body)).Item1);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync("/get-online-features", server.Keys["reader"], """{"features": ["user_secrets:passport"], "entities": {"user_id": [2]}}""")).Item1);

        // The gateway stores a request's records before its answer completes.
        var store = new Granary.Registry.Sql.SqliteAuditStore(Path.Combine(server.RepositoryRoot, "data", "audit.db"));
        var records = new List<Granary.Audit.AuditRecord>();
        await foreach (var record in store.ReadAllAsync()) records.Add(record);
        var unmasked = records.Where(r => r.Entry.Action == "READ_UNMASKED").Select(r => (r.Entry.Principal, r.Entry.ObjectName, r.Entry.Result)).ToList();
        Assert.Contains(("svc-privileged", "user_profile", "allowed"), unmasked);
        Assert.Contains(("svc-reader", "user_secrets", "denied"), unmasked);
        Assert.DoesNotContain(unmasked, r => r is ("svc-reader", "user_profile", _));
        Assert.DoesNotContain(records, r => r.Entry.ToString()!.Contains("123-45-6789", StringComparison.Ordinal));
    }

    [Fact]
    public void Feature_tags_reach_feasts_registry_messages()
    {
        var field = new Definitions.Field("ssn", new Definitions.ValueType(Definitions.ScalarType.String)) { Tags = new Dictionary<string, string> { ["pii"] = "hash" } };
        Assert.Equal("hash", Grpc.FeastRegistryMapper.Feature(field).Tags["pii"]);
    }

    /// <summary>A second gateway over the fixture's silo: free ports, authorization on, no salt, then <paramref name="configure"/>.</summary>
    private Task<EmbeddedGateway> AnotherGatewayAsync(Action<GatewayOptions> configure) => EmbeddedGateway.StartAsync(server.Store, o =>
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
        o.Security.Authorization = true;
        configure(o);
    });

    /// <summary>A Feast value as the .NET value the expectations hold.</summary>
    internal static object? Of(Value value) => value.ValCase switch
    {
        Value.ValOneofCase.None => null,
        Value.ValOneofCase.StringVal => value.StringVal,
        Value.ValOneofCase.Int64Val => value.Int64Val,
        Value.ValOneofCase.DoubleVal => value.DoubleVal,
        _ => $"unexpected {value.ValCase}",
    };

    /// <summary>Creates an API key with the CLI, as an operator does, and returns the key it printed.</summary>
    internal static Task<string> CreateKeyAsync(string repositoryRoot, string role) => CliRunner.CreateApiKeyAsync(repositoryRoot, $"svc-{role}", role);

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private Task<(HttpStatusCode, string)> PostAsync(string path, string key, string body) => PostAsync(server.Http, path, key, body);

    private static async Task<(HttpStatusCode, string)> PostAsync(HttpClient http, string path, string? key, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode, string)> GetAsync(string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The built CLI as its own process, so its credentials (GRANARY_API_KEY) are its environment only.</summary>
    private static async Task<(int ExitCode, string Output)> RunCliProcessAsync(string key, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "granary.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[GranaryCredentials.ApiKeyVariable] = key;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
