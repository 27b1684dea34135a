using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Granary.Audit;
using Granary.Core.Security;
using Granary.Gateway.Security;
using Granary.Registry.Sql;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Gateway.Tests.Security;

/// <summary>
/// A gateway whose test-only middleware plays the authorization helper's part: <c>X-Test-Principal</c> sets an API-key
/// identity, <c>X-Test-Decision: ACTION,type,name,allowed|denied,sensitive|plain</c> records a decision (a denied one
/// answers 403, as authorization would). Features per request are limited to 3.
/// </summary>
public sealed class AuditServer : GatewayServer
{
    protected override void ConfigureGateway(GatewayOptions o)
    {
        base.ConfigureGateway(o);
        o.Limits.MaxFeatures = 3;
    }

    protected override void ConfigureSilo(Orleans.Hosting.ISiloBuilder silo) => Catalog.GatewayDashboard.AddGranaryDashboard(silo);

    protected override void ConfigureGatewayServices(IServiceCollection services)
        => services.AddSingleton<IStartupFilter, TestPrincipalFilter>();

    /// <summary>The audit log as stored (<c>data/audit.db</c>), in sequence order.</summary>
    public async Task<List<AuditRecord>> RecordsAsync()
    {
        var store = new SqliteAuditStore(Path.Combine(RepositoryRoot, "data", "audit.db"));
        var records = new List<AuditRecord>();
        await foreach (var record in store.ReadAllAsync()) records.Add(record);
        return records;
    }

    private sealed class TestPrincipalFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                if (context.Request.Headers["X-Test-Principal"].ToString() is { Length: > 0 } name)
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, "tester")], "apikey"));
                if (context.Request.Headers["X-Test-Decision"].ToString() is { Length: > 0 } text)
                {
                    var p = text.Split(',');
                    var decision = new AccessDecision(Enum.Parse<PermissionAction>(p[0].Replace("_", ""), ignoreCase: true), p[1], p[2], p[3] == "allowed", p[4] == "sensitive");
                    RequestAccess.Of(context).Add(decision);
                    if (!decision.Allowed)
                    {
                        context.Response.StatusCode = StatusCodes.Status403Forbidden;
                        return;
                    }
                }
                await inner(context);
            });
            next(app);
        };
    }
}

/// <summary>
/// The audit trail over a real embedded server: what each kind of request records (and what it must never record),
/// and that the record is stored by the time the answer has arrived (no waiting in the test: that is the guarantee).
/// </summary>
public sealed class AuditTrailTests(AuditServer server) : IClassFixture<AuditServer>
{
    private const string PushedValue = "98765.4321";
    private const string PushedEntity = "8642097531";

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await server.Http.SendAsync(request, cancel.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancel.Token));
    }

    private async Task<List<AuditRecord>> NewRecordsAsync(long after) => (await server.RecordsAsync()).Where(r => r.Sequence > after).ToList();

    private async Task<long> LastAsync() => (await server.RecordsAsync()).Select(r => r.Sequence).DefaultIfEmpty(0).Max();

    [Fact]
    public async Task A_push_is_recorded_before_its_answer_with_no_feature_or_entity_value_in_the_log()
    {
        var before = await LastAsync();
        var (status, body) = await PostAsync("/push",
            $$"""{"push_source_name":"driver_push","df":{"driver_id":[{{PushedEntity}}],"event_timestamp":["2024-02-01T00:00:00Z"],"speed":[{{PushedValue}}]},"to":"online"}""");
        Assert.True(status == HttpStatusCode.OK, body);

        var record = Assert.Single(await NewRecordsAsync(before));
        Assert.Equal("WRITE_ONLINE", record.Entry.Action);
        Assert.Equal("POST /push", record.Entry.Route);
        Assert.Equal(AuditEntry.Anonymous, record.Entry.Principal);
        Assert.Equal("none", record.Entry.AuthMethod);
        Assert.Equal("allowed", record.Entry.Result);
        Assert.Equal("200", record.Entry.Status);
        Assert.Equal("127.0.0.1", record.Entry.Address);
        // Nothing of the body reaches the log: not in any field, not anywhere in the database files.
        Assert.DoesNotContain(PushedValue, record.ToString());
        Assert.DoesNotContain(PushedEntity, record.ToString());
        foreach (var file in Directory.GetFiles(Path.Combine(server.RepositoryRoot, "data"), "audit.db*"))
        {
            var bytes = Encoding.Latin1.GetString(await ReadSharedAsync(file));
            Assert.DoesNotContain(PushedValue, bytes);
            Assert.DoesNotContain(PushedEntity, bytes);
        }
    }

    [Fact]
    public async Task A_grpc_push_and_a_failed_one_are_recorded_with_their_status()
    {
        var before = await LastAsync();
        var client = new V1.Granary.GranaryClient(server.Channel);
        var request = new V1.PushRequest { PushSourceName = "driver_push", To = "online" };
        request.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 8642097531 } } };
        request.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { StringVal = "2024-02-01T00:00:00Z" } } };
        request.Columns["speed"] = new RepeatedValue { Val = { new Value { DoubleVal = 98765.4321 } } };
        await client.PushAsync(request, deadline: DateTime.UtcNow.AddSeconds(60));
        var unknown = request.Clone();
        unknown.PushSourceName = "no_such_source";
        var e = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(unknown, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        var records = await NewRecordsAsync(before);
        Assert.Equal(2, records.Count);
        Assert.Equal(("WRITE_ONLINE", "POST /granary.gateway.v1.Granary/Push", "allowed", "grpc:OK"),
            (records[0].Entry.Action, records[0].Entry.Route, records[0].Entry.Result, records[0].Entry.Status));
        Assert.Equal(("failed", "grpc:NOT_FOUND"), (records[1].Entry.Result, records[1].Entry.Status));
    }

    [Fact]
    public async Task An_oversized_body_is_recorded_as_refused_413()
    {
        var before = await LastAsync();
        var big = new string('x', 300 * 1024); // the fixture's MaxRequestBodyBytes is 256 KiB
        var (status, _) = await PostAsync("/get-online-features", $$"""{"features":["driver_stats:trips"],"entities":{"driver_id":[1]},"pad":"{{big}}"}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        var record = Assert.Single(await NewRecordsAsync(before));
        Assert.Equal(("refused", "413", "POST /get-online-features"), (record.Entry.Result, record.Entry.Status, record.Entry.Route));
    }

    [Fact]
    public async Task Too_many_features_is_413_naming_the_limit_and_setting_and_grpc_resource_exhausted_both_audited()
    {
        var before = await LastAsync();
        var (status, body) = await PostAsync("/get-online-features",
            """{"features":["driver_stats:trips","driver_stats:conv_rate","driver_stats:rating","city_stats:population"],"entities":{"driver_id":[1]}}""",
            ("Granary-Strict", "true"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("at most 3 per request", body);
        Assert.Contains("Granary:Gateway:Limits:MaxFeatures", body);

        var feast = new ServingService.ServingServiceClient(server.Channel);
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:trips", "driver_stats:conv_rate", "driver_stats:rating", "city_stats:population" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 } } };
        var e = await Assert.ThrowsAsync<RpcException>(() => feast.GetOnlineFeaturesAsync(request, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("Granary:Gateway:Limits:MaxFeatures", e.Status.Detail);

        var records = await NewRecordsAsync(before);
        Assert.Equal(2, records.Count);
        Assert.Equal(("refused", "413"), (records[0].Entry.Result, records[0].Entry.Status));
        Assert.Equal(("refused", "grpc:RESOURCE_EXHAUSTED", "POST /feast.serving.ServingService/GetOnlineFeatures"),
            (records[1].Entry.Result, records[1].Entry.Status, records[1].Entry.Route));
    }

    [Fact]
    public async Task A_grpc_message_over_the_body_limit_is_resource_exhausted_naming_the_setting()
    {
        var feast = new ServingService.ServingServiceClient(server.Channel);
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:" + new string('x', 300 * 1024) } } };
        var e = await Assert.ThrowsAsync<RpcException>(() => feast.GetOnlineFeaturesAsync(request, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        Assert.True(e.StatusCode == StatusCode.ResourceExhausted, e.Status.ToString());
        Assert.Contains("Granary:Gateway:MaxRequestBodyBytes", e.Status.Detail);
        Assert.Contains("262,144 bytes", e.Status.Detail);
    }

    [Fact]
    public async Task Too_many_entity_rows_is_413_naming_the_setting()
    {
        var rows = string.Join(",", Enumerable.Range(1, 10_001));
        var (status, body) = await PostAsync("/get-online-features", $$$"""{"features":["driver_stats:trips"],"entities":{"driver_id":[{{{rows}}}]}}""", ("Granary-Strict", "true"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("Granary:Gateway:MaxEntityRows", body);
    }

    [Fact]
    public async Task Reads_are_recorded_only_when_sensitive_or_denied_with_the_principal_and_the_object()
    {
        const string read = """{"features":["driver_stats:trips"],"entities":{"driver_id":[1]}}""";
        var before = await LastAsync();
        var (plain, _) = await PostAsync("/get-online-features", read, ("X-Test-Principal", "bob"), ("X-Test-Decision", "READ_ONLINE,feature_view,driver_stats,allowed,plain"));
        Assert.Equal(HttpStatusCode.OK, plain);
        Assert.Empty(await NewRecordsAsync(before));

        var (sensitive, _) = await PostAsync("/get-online-features", read, ("X-Test-Principal", "alice"), ("X-Test-Decision", "READ_ONLINE,feature_view,driver_stats,allowed,sensitive"));
        Assert.Equal(HttpStatusCode.OK, sensitive);
        var (denied, _) = await PostAsync("/get-online-features", read, ("X-Test-Principal", "mallory"), ("X-Test-Decision", "READ_ONLINE,feature_view,driver_stats,denied,plain"));
        Assert.Equal(HttpStatusCode.Forbidden, denied);

        var records = await NewRecordsAsync(before);
        Assert.Equal(2, records.Count);
        Assert.Equal(("alice", "apikey", "READ_ONLINE", "feature_view", "driver_stats", "allowed", "200"),
            (records[0].Entry.Principal, records[0].Entry.AuthMethod, records[0].Entry.Action, records[0].Entry.ObjectType, records[0].Entry.ObjectName, records[0].Entry.Result, records[0].Entry.Status));
        Assert.Equal(("mallory", "READ_ONLINE", "driver_stats", "denied", "403"),
            (records[1].Entry.Principal, records[1].Entry.Action, records[1].Entry.ObjectName, records[1].Entry.Result, records[1].Entry.Status));
        // The chain links them: the store's log verifies.
        Assert.True((await AuditChain.VerifyAsync(ToAsync(await server.RecordsAsync()))).Ok);
    }

    [Fact]
    public async Task The_dashboard_never_dials_an_address_from_the_url()
    {
        // A listener nobody knows as a silo: the gateway must answer 404 without connecting to it.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await server.Http.GetAsync($"/dashboard/SiloProperties/127.0.0.1:{port}@1", cancel.Token);
        var body = await response.Content.ReadAsStringAsync(cancel.Token);
        Assert.True(response.StatusCode is HttpStatusCode.NotFound, $"{(int)response.StatusCode} {body}");
        Assert.Contains("not an active silo", body);
        Assert.False(listener.Pending(), "the gateway or a silo connected to the address in the URL");
    }

    private static async Task<byte[]> ReadSharedAsync(string file)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async IAsyncEnumerable<AuditRecord> ToAsync(IEnumerable<AuditRecord> records)
    {
        foreach (var record in records) yield return record;
        await Task.CompletedTask;
    }
}
