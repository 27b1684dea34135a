using System.Net;
using System.Text;
using Granary.Audit;
using Granary.Registry.Sql;

namespace Granary.Gateway.Tests.Security;

/// <summary>
/// The audit trail of a cluster-mode gateway, an Orleans client that knows no store: its records reach the log through the
/// audit grain on the silo, which stores them in the repository's log, before the refused request's answer completes.
/// </summary>
public sealed class ClusterAuditTests(ClusterGatewayServer server) : IClassFixture<ClusterGatewayServer>
{
    [Fact]
    public async Task A_refused_request_at_a_cluster_gateway_is_stored_by_the_silos_audit_grain()
    {
        var big = new string('x', 4 * 1024 * 1024 + 1); // over the default MaxRequestBodyBytes, 4 MiB
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await server.Http.PostAsync("/push", new StringContent($$"""{"push_source_name":"p","pad":"{{big}}"}""", Encoding.UTF8, "application/json"), cancel.Token);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        var store = new SqliteAuditStore(Path.Combine(server.Root, "data", "audit.db"));
        var records = new List<AuditRecord>();
        await foreach (var record in store.ReadAllAsync(cancel.Token)) records.Add(record);
        var stored = Assert.Single(records, r => r.Entry.Route == "POST /push");
        Assert.Equal(("WRITE_ONLINE", "refused", "413"), (stored.Entry.Action, stored.Entry.Result, stored.Entry.Status));
        Assert.True((await AuditChain.VerifyAsync(store.ReadAllAsync(cancel.Token), cancel.Token)).Ok);
    }
}
