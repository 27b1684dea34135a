using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Feast.Types;
using Granary.Audit;
using Granary.Gateway.V1;
using Granary.Registry.Sql;
using Granary.Repository;
using Granary.Testing;
using Grpc.Core;

namespace Granary.Gateway.Tests.Quality;

/// <summary>
/// A push-fed view with data rules behind an authorizing gateway: writers, readers (READ_OFFLINE) and a principal with no
/// grant on it, each with an API key made by the CLI.
/// </summary>
public sealed class RulesServer : EmbeddedServerFixture
{
    public RulesServer() : base("rules", "granary-rules-gw-")
    {
    }

    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    public const string DefinitionsYaml = """
        entities:
          - name: account
            join_key: account_id
        sources:
          - name: payments_batch
            type: file
            path: data/payments
            timestamp_field: event_timestamp
          - name: payments_push
            type: push
            batch_source: payments_batch
        feature_views:
          - name: payments
            entities: [account]
            source: payments_push
            schema:
              - name: amount
                type: Float64
                rules:
                  not_null: true
                  min: 0
              - name: score
                type: Float64
                rules:
                  max: {value: 1, on_break: quarantine}
        permissions:
          - name: writers
            types: [feature_view]
            actions: [WRITE_ONLINE, WRITE_OFFLINE]
            policy: {roles: [writer]}
          - name: readers
            types: [feature_view]
            actions: [READ_OFFLINE, READ_ONLINE]
            policy: {roles: [reader]}

        """;

    protected override void WriteData(TestRepository repository)
    {
        File.WriteAllText(Path.Combine(RepositoryRoot, "definitions.yaml"), DefinitionsYaml);
        repository.WriteData(data =>
            $"COPY (SELECT -1::BIGINT AS account_id, TIMESTAMPTZ '2020-01-01 00:00:00+00' AS event_timestamp, 0.0::DOUBLE AS amount, 0.0::DOUBLE AS score) TO '{Directory.CreateDirectory(Path.Combine(data, "payments")).FullName}/seed.parquet' (FORMAT parquet);");
    }

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(FeatureRepositoryLoader.Load(RepositoryRoot).ToSnapshot());
        foreach (var role in new[] { "writer", "reader", "nobody" })
            Keys[role] = await CreateKeyAsync($"svc-{role}", role);
    }

    private Task<string> CreateKeyAsync(string principal, string roles) => CliRunner.CreateApiKeyAsync(RepositoryRoot, principal, roles);

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
        o.Security.Authorization = true;
    }

    /// <summary>The audit log as stored.</summary>
    public async Task<List<AuditRecord>> AuditAsync()
    {
        var store = new SqliteAuditStore(Path.Combine(RepositoryRoot, "data", "audit.db"));
        var records = new List<AuditRecord>();
        await foreach (var record in store.ReadAllAsync()) records.Add(record);
        return records;
    }
}

/// <summary>
/// Data rules through the gateway: a push breaking a reject rule is 422 / INVALID_ARGUMENT naming the rule, the value and
/// the row, and stores nothing; quarantined rows are counted in the answer (a REST header, gRPC fields); the quarantine API
/// needs READ_OFFLINE to read and WRITE_ONLINE/WRITE_OFFLINE to release, and a release is audited as a write.
/// </summary>
public sealed class DataRuleGatewayTests(RulesServer server) : IClassFixture<RulesServer>
{
    private static string PushBody(long account, string amount, string score)
        => $$$"""{"push_source_name": "payments_push", "to": "online_and_offline", "df": {"account_id": [{{{account}}}], "event_timestamp": ["2026-01-01T00:00:00Z"], "amount": [{{{amount}}}], "score": [{{{score}}}]}}""";

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string role, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Keys[role]);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await server.Http.SendAsync(request);
    }

    private Granary.Gateway.V1.Granary.GranaryClient GrpcClient(string role, out Metadata headers)
    {
        headers = new Metadata { { "authorization", "Bearer " + server.Keys[role] } };
        return new Granary.Gateway.V1.Granary.GranaryClient(global::Grpc.Net.Client.GrpcChannel.ForAddress(server.Gateway.GrpcUrl));
    }

    [Fact]
    public async Task A_push_breaking_a_reject_rule_is_422_and_invalid_argument_naming_the_rule_the_value_and_the_row()
    {
        using var response = await SendAsync(HttpMethod.Post, "/push", "writer", PushBody(41, "-2.5", "0.5"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("row 1: value -2.5 of 'amount' breaks rule amount.min (min 0, reject) of feature view 'payments'", text);

        var client = GrpcClient("writer", out var headers);
        var request = new PushRequest { PushSourceName = "payments_push", To = "online_and_offline" };
        request.Columns["account_id"] = Values(new Value { Int64Val = 42 });
        request.Columns["event_timestamp"] = Values(new Value { UnixTimestampVal = 1_767_225_600 });
        request.Columns["amount"] = Values(new Value());
        request.Columns["score"] = Values(new Value { DoubleVal = 0.5 });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.PushAsync(request, headers, deadline: DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("row 1: value null of 'amount' breaks rule amount.not_null (not_null, reject) of feature view 'payments'", error.Status.Detail);

        // Nothing of either push is served.
        using var read = await SendAsync(HttpMethod.Post, "/get-online-features", "reader", """{"features": ["payments:amount"], "entities": {"account_id": [41, 42]}}""");
        Assert.Equal(["NOT_FOUND", "NOT_FOUND"], JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement
            .GetProperty("results")[1].GetProperty("statuses").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task A_quarantined_row_is_counted_read_with_read_offline_and_released_by_a_writer_as_an_audited_write()
    {
        using var pushed = await SendAsync(HttpMethod.Post, "/push", "writer", PushBody(51, "10", "1.25"));
        Assert.Equal(HttpStatusCode.OK, pushed.StatusCode);
        Assert.Equal("1", pushed.Headers.GetValues("X-Granary-Rows-Quarantined").Single());

        using var refused = await SendAsync(HttpMethod.Get, "/api/quarantine?feature_view=payments", "nobody");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var listed = await SendAsync(HttpMethod.Get, "/api/quarantine?feature_view=payments", "reader");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var rows = JsonDocument.Parse(await listed.Content.ReadAsStringAsync()).RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("row").GetProperty("account_id").GetString() == "51").ToList();
        var entry = Assert.Single(rows);
        Assert.Equal(("score.max", "1.25"), (entry.GetProperty("rule").GetString(), entry.GetProperty("row").GetProperty("score").GetString()));
        var id = entry.GetProperty("id").GetInt64();

        using var readerRelease = await SendAsync(HttpMethod.Post, $"/api/quarantine/{id}/release", "reader");
        Assert.Equal(HttpStatusCode.Forbidden, readerRelease.StatusCode);
        var before = (await server.AuditAsync()).Count;
        using var released = await SendAsync(HttpMethod.Post, $"/api/quarantine/{id}/release", "writer");
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        Assert.Contains("\"online_rows_applied\":1", await released.Content.ReadAsStringAsync());

        using var read = await SendAsync(HttpMethod.Post, "/get-online-features", "reader", """{"features": ["payments:score"], "entities": {"account_id": [51]}}""");
        Assert.Equal(1.25, JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[1].GetProperty("values")[0].GetDouble());
        var audit = (await server.AuditAsync()).Skip(before).Select(r => r.Entry).ToList();
        Assert.Contains(audit, e => e.Principal == "svc-writer" && e.Action == "WRITE_ONLINE" && e.ObjectType == "feature_view" && e.ObjectName == "payments"
                                    && e.Route == $"POST /api/quarantine/{id}/release");
        // The audit log holds who released what, never the row's values.
        Assert.DoesNotContain(audit, e => JsonSerializer.Serialize(e).Contains("1.25", StringComparison.Ordinal));

        using var gone = await SendAsync(HttpMethod.Get, $"/api/quarantine/{id}", "reader");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains($"no quarantine entry {id}", await gone.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_grpc_push_answer_counts_quarantined_and_warned_rows()
    {
        var client = GrpcClient("writer", out var headers);
        var request = new PushRequest { PushSourceName = "payments_push", To = "online" };
        request.Columns["account_id"] = Values(new Value { Int64Val = 61 }, new Value { Int64Val = 62 });
        request.Columns["event_timestamp"] = Values(new Value { UnixTimestampVal = 1_767_225_600 }, new Value { UnixTimestampVal = 1_767_225_600 });
        request.Columns["amount"] = Values(new Value { DoubleVal = 1 }, new Value { DoubleVal = 2 });
        request.Columns["score"] = Values(new Value { DoubleVal = 3 }, new Value { DoubleVal = 0.5 });
        var response = await client.PushAsync(request, headers, deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal((2, 1, 1, 0), (response.RowsReceived, response.RowsAccepted, response.RowsQuarantined, response.RowsWarned));
    }

    [Fact]
    public async Task A_bad_quarantine_id_is_400_naming_it()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/quarantine/abc/drop", "writer");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("quarantine id 'abc' is not a whole number", await response.Content.ReadAsStringAsync());
    }

    private static RepeatedValue Values(params Value[] values)
    {
        var repeated = new RepeatedValue();
        repeated.Val.AddRange(values);
        return repeated;
    }
}
