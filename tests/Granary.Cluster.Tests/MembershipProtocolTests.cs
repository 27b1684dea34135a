using System.Diagnostics;
using System.Net;
using Granary.Runtime.Cluster;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Cluster.Tests;

/// <summary>The membership protocol alone (no grains): join, probing, votes, death declaration, self-termination.</summary>
public sealed class MembershipProtocolTests
{
    internal static ClusterOptions FastOptions(string clusterId) => new()
    {
        ClusterId = clusterId,
        ProbeTimeout = TimeSpan.FromMilliseconds(200),
        NumMissedProbesLimit = 3,
        // Generous: a row gone stale under machine load would lower the votes needed and change what is asserted.
        IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(3),
        TableRefreshTimeout = TimeSpan.FromSeconds(2),
        DeathVoteExpirationTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
    };

    private sealed class Node : IIncomingMessageHandler, IAsyncDisposable
    {
        public readonly TransportListener Listener;
        public readonly SiloConnector Connector;
        public readonly MembershipService Membership;
        public readonly TaskCompletionSource<string> DeclaredDead = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Node(IMembershipTable table, ClusterOptions options, string name)
        {
            Listener = new TransportListener(new IPEndPoint(IPAddress.Loopback, 0), options.ClusterId, this, NullLogger.Instance);
            var self = SiloAddress.New("127.0.0.1", Listener.Endpoint.Port);
            Listener.LocalSilo = self;
            Listener.Start();
            Connector = new SiloConnector(options, NullLogger.Instance);
            Membership = new MembershipService(self, name, table, Connector, options, NullLogger.Instance, reason => DeclaredDead.TrySetResult(reason));
        }

        public void OnRequest(Message request, InboundConnection connection) { }
        public void OnMembershipChanged() => Membership.RequestRefresh();

        public void Kill()
        {
            Membership.Abort();
            Listener.Abort();
            Connector.Abort();
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await Membership.DisposeAsync();
            await Connector.DisposeAsync();
        }
    }


    [Fact]
    public async Task Silos_join_as_active_and_see_each_other()
    {
        var table = new InMemoryMembershipTable();
        var options = FastOptions("join");
        await using var a = new Node(table, options, "a");
        await using var b = new Node(table, options, "b");
        await a.Membership.JoinAsync(default);
        await b.Membership.JoinAsync(default);

        await Eventually.WaitUntil(() => a.Membership.View.ActiveSilos.Count == 2, TimeSpan.FromSeconds(5), "a sees b through gossip");
        Assert.Equal(SiloStatus.Active, b.Membership.View.StatusOf(a.Membership.Self));
        var data = await table.ReadAllAsync();
        Assert.All(data.Rows, r => Assert.Equal(SiloStatus.Active, r.Entry.Status));
    }

    [Fact]
    public async Task A_killed_silo_is_declared_dead_by_votes_within_a_bounded_time()
    {
        var table = new InMemoryMembershipTable();
        var options = FastOptions("kill");
        await using var a = new Node(table, options, "a");
        await using var b = new Node(table, options, "b");
        await using var c = new Node(table, options, "c");
        foreach (var node in new[] { a, b, c }) await node.Membership.JoinAsync(default);
        await Eventually.WaitUntil(() => a.Membership.View.ActiveSilos.Count == 3 && b.Membership.View.ActiveSilos.Count == 3, TimeSpan.FromSeconds(5), "all see 3 silos");

        var watch = Stopwatch.StartNew();
        c.Kill();
        await Eventually.WaitUntil(() => a.Membership.View.StatusOf(c.Membership.Self) == SiloStatus.Dead
                           && b.Membership.View.StatusOf(c.Membership.Self) == SiloStatus.Dead, TimeSpan.FromSeconds(10), "c declared dead");
        // 3 missed probes of 200 ms plus table round trips; the bound leaves room for a loaded machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");

        var row = (await table.ReadAllAsync()).Find(c.Membership.Self)!.Value;
        Assert.Equal(SiloStatus.Dead, row.Entry.Status);
        // Three active silos need min(2, ceil(3/2)) = 2 votes: both survivors voted.
        Assert.Equal(2, row.Entry.SuspectTimes.Select(v => v.Voter).Distinct().Count());
        Assert.Equal(2, a.Membership.View.ActiveSilos.Count);
    }

    [Fact]
    public async Task A_silo_its_peers_cannot_reach_is_declared_dead_and_stops_itself()
    {
        var table = new InMemoryMembershipTable();
        var options = FastOptions("partition");
        await using var a = new Node(table, options, "a");
        await using var b = new Node(table, options, "b");
        await using var c = new Node(table, options, "c");
        foreach (var node in new[] { a, b, c }) await node.Membership.JoinAsync(default);

        // c keeps running and reading the table, but no longer answers probes (a one-way partition).
        c.Listener.AnswersPings = false;

        var reason = await c.DeclaredDead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("declared dead", reason);
        var row = (await table.ReadAllAsync()).Find(c.Membership.Self)!.Value;
        Assert.Equal(SiloStatus.Dead, row.Entry.Status);
        await Eventually.WaitUntil(() => a.Membership.View.StatusOf(c.Membership.Self) == SiloStatus.Dead, TimeSpan.FromSeconds(5), "a sees c dead");
    }

    [Fact]
    public async Task A_graceful_leave_goes_through_ShuttingDown_to_Dead_without_votes()
    {
        var table = new InMemoryMembershipTable();
        var options = FastOptions("leave");
        await using var a = new Node(table, options, "a");
        await using var b = new Node(table, options, "b");
        await a.Membership.JoinAsync(default);
        await b.Membership.JoinAsync(default);

        await b.Membership.BeginShutdownAsync(default);
        await Eventually.WaitUntil(() => a.Membership.View.StatusOf(b.Membership.Self) == SiloStatus.ShuttingDown, TimeSpan.FromSeconds(5), "a sees b shutting down");
        Assert.DoesNotContain(b.Membership.Self, a.Membership.View.ActiveSilos);
        await b.Membership.CompleteShutdownAsync(default);

        var row = (await table.ReadAllAsync()).Find(b.Membership.Self)!.Value;
        Assert.Equal(SiloStatus.Dead, row.Entry.Status);
        Assert.Empty(row.Entry.SuspectTimes);
    }

    [Fact]
    public void Options_validation_names_the_offending_option()
    {
        var options = new ClusterOptions { ProbeTimeout = TimeSpan.Zero };
        var error = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains("ProbeTimeout", error.Message);
        new ClusterOptions().Validate();
        Assert.Equal(TimeSpan.FromSeconds(5), new ClusterOptions().ProbeTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), new ClusterOptions().DeathVoteExpirationTimeout);
    }
}
