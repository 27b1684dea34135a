using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Feast.Serving;
using Feast.Types;
using Granary.Cli;
using Granary.Gateway.V1;
using Granary.Repository;
using Granary.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using Orleans.Configuration;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests.Security;

/// <summary>
/// The cluster layout: a silo on PostgreSQL (registry, offline store, API keys) and Redis (online store) and a gateway that
/// is an Orleans client of it, authorization on, with the users of <see cref="PiiServer"/> in a PostgreSQL table
/// materialized to Redis. A fresh database per class on GRANARY_TEST_POSTGRES; Redis keys carry the random project name.
/// </summary>
public sealed class ClusterPiiServer : IAsyncLifetime
{
    private readonly TestRepository _repository = new("granary-cluster-pii-");
    private string? _admin;
    private EmbeddedFeatureStore? _silo;
    private ClusterGateway? _gateway;

    public string Project { get; } = "cpii" + Guid.NewGuid().ToString("N")[..8];
    public string Database { get; } = "granary_pii_" + Guid.NewGuid().ToString("N")[..12];
    public string Root => _repository.Root;
    public HttpClient Http { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);
    public DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public async Task InitializeAsync()
    {
        _admin = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES")
            ?? throw new InvalidOperationException("GRANARY_TEST_POSTGRES is not set: run `eval \"$(deploy/test-services.sh env)\"` first");
        var redis = Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS")
            ?? throw new InvalidOperationException("GRANARY_TEST_REDIS is not set: run `eval \"$(deploy/test-services.sh env)\"` first");
        await ExecuteAsync(_admin, $"CREATE DATABASE {Database}");
        var connection = new NpgsqlConnectionStringBuilder(_admin) { Database = Database }.ConnectionString;
        var at = (Now - TimeSpan.FromHours(2)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, $"""
            CREATE TABLE users (user_id BIGINT, event_timestamp TIMESTAMPTZ, email TEXT, ssn TEXT, account_no BIGINT, age BIGINT, score DOUBLE PRECISION, passport TEXT);
            INSERT INTO users VALUES
              (1, '{at}+00', 'ann@example.com', '123-45-6789', 4001, 34, 0.5, 'P111'),
              (2, '{at}+00', 'bob@example.com', '123-45-6789', 4001, 41, 0.7, 'P222'),
              (3, '{at}+00', 'cy@example.com', '987-65-4321', 4003, 29, 0.9, 'P333');
            """);
        await _repository.WriteGranaryYamlAsync(Project, $"""
            registry:
              type: postgres
              connection_string: "{connection}"
            online_store:
              type: redis
              connection_string: {redis}
            offline_store:
              type: postgres
              connection_string: "{connection}"

            """);
        Directory.CreateDirectory(Path.Combine(Root, "features"));
        File.WriteAllText(Path.Combine(Root, "features", "users.yaml"), PiiServer.DefinitionsYaml.Replace(
            "    type: file\n    path: data/users.parquet\n", "    type: postgres\n    table: users\n", StringComparison.Ordinal));

        var gatewayPort = FreePorts.One();
        _silo = await EmbeddedFeatureStore.StartAsync(Root, silo => silo.Configure<EndpointOptions>(o => o.GatewayPort = gatewayPort));
        await _silo.Grains.ApplyAsync(FeatureRepositoryLoader.Load(Root).ToSnapshot());
        foreach (var view in new[] { "user_profile", "user_secrets" }) await _silo.Grains.MaterializeAsync(Project, view, Now.AddDays(-10), Now);
        foreach (var role in new[] { "reader", "privileged" }) Keys[role] = await PiiMaskingTests.CreateKeyAsync(Root, role);
        _gateway = await ClusterGateway.StartAsync(Root, gatewayPort, "granary-embedded", Project, o =>
        {
            o.RestPort = 0;
            o.GrpcPort = 0;
            o.WebPort = GatewayOptions.WebPortOff;
            o.Security.Authorization = true;
            o.Masking.Mask = PiiServer.MaskText; // what granary.yaml's masking: gives granary-gateway with Granary:RepositoryRoot
            o.Masking.Salt = PiiServer.Salt;
        });
        Http = new HttpClient { BaseAddress = new Uri(_gateway.RestUrl), Timeout = TimeSpan.FromMinutes(1) };
        Channel = GrpcChannel.ForAddress(_gateway.GrpcUrl);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Http?.Dispose();
        if (_gateway is not null) await _gateway.DisposeAsync();
        if (_silo is not null) await _silo.DisposeAsync();
        if (_admin is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");
        }
        _repository.Dispose();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// Masking at a cluster-mode gateway over Redis and PostgreSQL: online reads (REST, Feast's gRPC) and historical rows,
/// clear with READ_UNMASKED and masked without, and refusal; the same rules and expected values as <see cref="PiiMaskingTests"/>.
/// </summary>
public sealed class ClusterPiiMaskingTests(ClusterPiiServer server) : IClassFixture<ClusterPiiServer>
{
    public static IEnumerable<object[]> Principals() => [["privileged"], ["reader"]];

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task Online_reads_over_rest_and_grpc_are_clear_or_masked(string role)
    {
        var expected = PiiMaskingTests.Expected(role);
        using var http = new HttpRequestMessage(HttpMethod.Post, "/get-online-features")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { features = PiiMaskingTests.ProfileFeatures, entities = new { user_id = new[] { 1, 2, 3 } } }), Encoding.UTF8, "application/json"),
        };
        http.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Keys[role]);
        using var response = await server.Http.SendAsync(http);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var results = json.RootElement.GetProperty("results");

        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { PiiMaskingTests.ProfileFeatures } } };
        request.Entities["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 }, new Value { Int64Val = 2 }, new Value { Int64Val = 3 } } };
        var grpc = await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(request, Bearer(server.Keys[role]), DateTime.UtcNow.AddSeconds(30));

        for (var f = 0; f < PiiMaskingTests.ProfileFeatures.Length; f++)
            for (var r = 0; r < 3; r++)
            {
                var value = results[f + 1].GetProperty("values")[r];
                object? rest = value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.String => value.GetString(),
                    _ when expected[r][f] is double => value.GetDouble(),
                    _ => value.GetInt64(),
                };
                Assert.Equal(expected[r][f], rest);
                Assert.Equal(expected[r][f], PiiMaskingTests.Of(grpc.Results[f + 1].Values[r]));
            }
    }

    [Theory]
    [MemberData(nameof(Principals))]
    public async Task Historical_rows_from_postgresql_are_clear_or_masked(string role)
    {
        var at = server.Now.AddHours(-1).ToUnixTimeSeconds();
        var rows = new EntityRows();
        rows.Columns["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 }, new Value { Int64Val = 2 }, new Value { Int64Val = 3 } } };
        rows.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = at }, new Value { UnixTimestampVal = at }, new Value { UnixTimestampVal = at } } };
        using var call = new V1.Granary.GranaryClient(server.Channel).GetHistoricalFeatures(
            new GetHistoricalFeaturesRequest { EntityRows = rows, Features = { PiiMaskingTests.ProfileFeatures }, StreamRows = true }, Bearer(server.Keys[role]), DateTime.UtcNow.AddMinutes(2));
        List<string>? columns = null;
        var values = new List<List<Value>>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == HistoricalFeaturesEvent.EventOneofCase.Result) columns = [.. e.Result.Columns];
            if (e.EventCase != HistoricalFeaturesEvent.EventOneofCase.Rows) continue;
            for (var c = 0; c < e.Rows.Columns.Count; c++)
            {
                if (values.Count <= c) values.Add([]);
                values[c].AddRange(e.Rows.Columns[c].Val);
            }
        }
        Assert.NotNull(columns);
        var users = values[columns.IndexOf("user_id")].Select(v => v.Int64Val).ToList();
        Assert.Equal(3, users.Count);
        var expected = PiiMaskingTests.Expected(role);
        for (var f = 0; f < PiiMaskingTests.ProfileFeatures.Length; f++)
        {
            var column = values[columns.IndexOf(PiiMaskingTests.ProfileFeatures[f].Split(':')[1])];
            for (var i = 0; i < users.Count; i++) Assert.Equal(expected[(int)users[i] - 1][f], PiiMaskingTests.Of(column[i]));
        }
    }

    [Fact]
    public async Task Refusal_is_permission_denied_naming_the_feature_and_the_action()
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "user_secrets:passport" } } };
        request.Entities["user_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var client = new ServingService.ServingServiceClient(server.Channel);
        var denied = await Assert.ThrowsAsync<RpcException>(() => client.GetOnlineFeaturesAsync(request, Bearer(server.Keys["reader"]), DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("feature 'user_secrets:passport'", denied.Status.Detail);
        Assert.Contains("READ_UNMASKED", denied.Status.Detail);
        var allowed = await client.GetOnlineFeaturesAsync(request, Bearer(server.Keys["privileged"]), DateTime.UtcNow.AddSeconds(30));
        Assert.Equal("P111", allowed.Results[1].Values[0].StringVal);
    }

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };
}
