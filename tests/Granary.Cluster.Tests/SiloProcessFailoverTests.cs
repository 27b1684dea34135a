using System.Diagnostics;
using Granary.Grains.Diagnostics;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Granary.Cluster.Tests;

/// <summary>Three Granary.Silo processes on Granary's PostgreSQL schema; one is SIGKILLed while a client calls grains on all.</summary>
public sealed class SiloProcessFailoverTests(ITestOutputHelper output) : IDisposable
{
    // What docs/cluster.md promises with the silo's default timings (Granary:Cluster); measured at 2-5 s here.
    private static readonly TimeSpan FailoverPromise = TimeSpan.FromSeconds(15);

    private readonly TestDatabase database = new();
    private readonly string clusterId = "proc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<SiloProcess> silos = [];
    private IHost? client;

    public void Dispose()
    {
        client?.StopAsync().Wait(TimeSpan.FromSeconds(10));
        client?.Dispose();
        silos.ForEach(s => s.Dispose());
        database.Dispose();
    }

    private Dictionary<int, int> StatusByPort() =>
        database.QueryOrEmpty<string>($"SELECT port || ':' || status FROM granary_membership WHERE cluster_id = '{clusterId}'")
            .Select(row => row.Split(':'))
            .GroupBy(parts => int.Parse(parts[0]))
            // A port has one row per incarnation; the newest status decides (there is one incarnation per port here).
            .ToDictionary(g => g.Key, g => g.Max(parts => int.Parse(parts[1])));

    // A silo identity reads "S127.0.0.1:<port>:<generation>".
    private static bool LivesOn(string siloIdentity, SiloProcess silo) => siloIdentity.Contains($":{silo.SiloPort}:");

    [Fact]
    public async Task A_SIGKILLed_silo_is_declared_Dead_and_its_grains_answer_elsewhere_within_15_s()
    {
        for (var i = 0; i < 3; i++)
        {
            silos.Add(SiloProcess.Start("--cluster-id", clusterId, "--name", $"silo-{i}", "--postgres", database.ConnectionString));
        }
        await Eventually.WaitUntil(
            () => silos.All(s => StatusByPort().GetValueOrDefault(s.SiloPort) == (int)SiloStatus.Active) || silos.Any(s => s.HasExited),
            TimeSpan.FromSeconds(90), "three Active silo processes");
        Assert.False(silos.Any(s => s.HasExited), "a silo exited at start:\n" + string.Join("\n---\n", silos.Select(s => s.Output)));

        client = await InProcessSilos.StartPostgresClientAsync(clusterId, database.ConnectionString);
        // The first calls activate 90 grains on silos that just joined; on a loaded machine one may outlast the client's
        // 2 s response timeout, so the placement is read once every grain has answered, however long that takes. Silos
        // Active in the table may not see each other yet, and a batch placed then spreads over two of them only: such a
        // batch is replaced by fresh grains until one spreads over all three.
        IPingGrain[] grains = [];
        string[] owners = [];
        var batch = 0;
        await Eventually.WaitUntil(async () =>
        {
            grains = [.. Enumerable.Range(0, 90).Select(i => client.Client().GetGrain<IPingGrain>($"failover-{batch}-{i}"))];
            batch++;
            var answers = await PingAllAsync(grains);
            if (answers.Any(a => a is null)) return false;
            owners = [.. answers.Select(a => a!)];
            return owners.Distinct().Count() == 3;
        }, TimeSpan.FromSeconds(90), "every ping grain of one batch answers, the batch spread over the three silos");
        var victim = silos[1];
        var victimGrains = owners.Count(o => LivesOn(o, victim));
        Assert.True(owners.Distinct().Count() == 3, $"grains should spread over the three silos; owners: {string.Join(", ", owners.Distinct())}");
        Assert.True(victimGrains > 0, $"no grain lives on the victim silo (port {victim.SiloPort})");

        var watch = Stopwatch.StartNew();
        victim.Kill();

        // Both effects are waited for with a generous bound, each timed when first seen; the promise is checked on those times.
        // Every grain must answer in one pass; a call that reaches the dead silo fails (or times out after 2 s) meanwhile.
        TimeSpan? allAnswered = null, declaredDead = null;
        var dead = Eventually.WaitUntil(() =>
        {
            if (StatusByPort().GetValueOrDefault(victim.SiloPort) != (int)SiloStatus.Dead) return false;
            declaredDead = watch.Elapsed;
            return true;
        }, FailoverPromise * 4, "the killed silo is declared Dead in granary_membership");
        var answered = Eventually.WaitUntil(async () =>
        {
            var answers = await PingAllAsync(grains);
            if (!answers.All(a => a is not null && !LivesOn(a, victim))) return false;
            allAnswered = watch.Elapsed;
            return true;
        }, FailoverPromise * 4, "every grain answers from the survivors");
        await Task.WhenAll(dead, answered);

        output.WriteLine($"{victimGrains} of {grains.Length} grains lived on the killed silo (port {victim.SiloPort}).");
        output.WriteLine($"declared Dead in granary_membership after {declaredDead?.TotalSeconds:0.00} s; every grain answered again after {allAnswered?.TotalSeconds:0.00} s");
        Assert.True(declaredDead is not null && declaredDead < FailoverPromise, $"the survivors did not declare the killed silo Dead within {FailoverPromise.TotalSeconds} s (took {declaredDead?.TotalSeconds:0.00} s)");
        Assert.True(allAnswered is not null && allAnswered < FailoverPromise, $"not every grain answered within {FailoverPromise.TotalSeconds} s (took {allAnswered?.TotalSeconds:0.00} s)");
        Assert.All(new[] { silos[0], silos[2] }, s => Assert.Equal((int)SiloStatus.Active, StatusByPort()[s.SiloPort]));
    }

    private static Task<string?[]> PingAllAsync(IPingGrain[] grains) => Task.WhenAll(grains.Select(async g =>
    {
        try { return await g.Ping(); }
        catch (Exception) { return (string?)null; }
    }));

    [Fact]
    public async Task Bad_arguments_exit_with_code_2_and_name_the_option()
    {
        using var silo = SiloProcess.Start("--cluster-id", clusterId, "--bogus");
        Assert.Equal(2, await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Unknown option '--bogus'", silo.Output);
    }

    [Fact]
    public async Task A_bad_membership_timing_stops_the_silo_at_start_with_the_key_and_the_fix()
    {
        using var silo = SiloProcess.Start("--cluster-id", clusterId, "Granary:Cluster:NumMissedProbesLimit=0");
        Assert.Equal(2, await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Granary:Cluster:NumMissedProbesLimit is 0; it must be at least 1", silo.Output);
    }
}
