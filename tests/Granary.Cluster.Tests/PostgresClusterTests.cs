using Granary.Grains.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace Granary.Cluster.Tests;

/// <summary>Three real silos (separate hosts in this process) on Granary's PostgreSQL schema, and a client that finds them there.</summary>
public sealed class PostgresClusterTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string clusterId = "pg-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IHost> hosts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await InProcessSilos.StopAllAsync(hosts);
        database.Dispose();
    }

    private async Task<IHost[]> StartThreeSilosAsync()
    {
        // Started together: each applies the schema at start-up under the advisory lock, then joins.
        var silos = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => InProcessSilos.StartPostgresSiloAsync(clusterId, database.ConnectionString)));
        hosts.AddRange(silos);
        return silos;
    }

    private List<int> Statuses() =>
        database.QueryOrEmpty<int>($"SELECT status FROM granary_membership WHERE cluster_id = '{clusterId}' ORDER BY status");

    [Fact]
    public async Task Three_silos_join_through_the_table_and_a_client_reaches_grains_on_each()
    {
        await StartThreeSilosAsync();
        await Eventually.WaitUntil(() => Statuses().Count(s => s == (int)SiloStatus.Active) == 3, TimeSpan.FromSeconds(30), "three Active silos in granary_membership");

        var client = await InProcessSilos.StartPostgresClientAsync(clusterId, database.ConnectionString);
        hosts.Add(client);
        var owners = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => client.Client().GetGrain<IPingGrain>($"spread-{i}").Ping()));

        Assert.Equal(3, owners.Distinct().Count());
        Assert.Equal(1, database.Query<int>($"SELECT count(*)::int FROM granary_membership_version WHERE cluster_id = '{clusterId}'").Single());
    }

    [Fact]
    public async Task A_reminder_registered_through_the_ado_net_reminder_service_ticks_and_is_stored()
    {
        var silos = await StartThreeSilosAsync();
        var key = "tick-" + Guid.NewGuid().ToString("N")[..8];

        await silos[0].Grains().GetGrain<ITickGrain>(key).Start(TimeSpan.FromSeconds(1));

        Assert.Equal(1, database.Query<int>($"SELECT count(*)::int FROM granary_reminders WHERE service_id = '{clusterId}' AND grain_id LIKE '%{key}'").Single());
        await Eventually.WaitUntil(() => TickGrain.Ticks.GetValueOrDefault(key) >= 2, TimeSpan.FromSeconds(30), $"two ticks of reminder 'tick' on {key}");

        await silos[1].Grains().GetGrain<ITickGrain>(key).Stop();
        Assert.Empty(database.Query<string>($"SELECT reminder_name FROM granary_reminders WHERE service_id = '{clusterId}' AND grain_id LIKE '%{key}'"));
    }

    [Fact]
    public async Task A_silo_that_stops_is_marked_Dead_and_old_Dead_rows_are_cleaned_up()
    {
        var silos = await StartThreeSilosAsync();
        await Eventually.WaitUntil(() => Statuses().Count(s => s == (int)SiloStatus.Active) == 3, TimeSpan.FromSeconds(30), "three Active silos");

        await silos[2].StopAsync();
        await Eventually.WaitUntil(() => Statuses().Count(s => s == (int)SiloStatus.Dead) == 1, TimeSpan.FromSeconds(30), "the stopped silo marked Dead");

        // The providers' clean-up of defunct rows, run as Orleans runs it (DefunctSiloCleanupPeriod), with a cut-off in
        // the future so that the Dead row qualifies; the Active rows must stay.
        var table = silos[0].Services.GetRequiredService<IMembershipTable>();
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        Assert.Equal([(int)SiloStatus.Active, (int)SiloStatus.Active], Statuses());
    }
}
