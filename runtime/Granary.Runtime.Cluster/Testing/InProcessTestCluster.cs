using System.Diagnostics;
using Granary.Runtime.Cluster.Client;
using Granary.Runtime.Cluster.Hosting;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Reminders;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Testing;

/// <summary>One silo of an <see cref="InProcessTestCluster"/>: its own generic host and DI container.</summary>
public sealed class SiloHandle(IHost host, ClusterSilo silo, string name)
{
    /// <summary>The silo's host.</summary>
    public IHost Host { get; } = host;
    /// <summary>The silo's cluster membership.</summary>
    public ClusterSilo Silo { get; } = silo;
    /// <summary>A readable name (silo-0, silo-1, ...).</summary>
    public string Name { get; } = name;
    /// <summary>The silo's identity.</summary>
    public SiloAddress Address => Silo.Address;
    /// <summary>The silo's grain factory (calls made from inside this silo).</summary>
    public IGrainFactory GrainFactory => Host.Services.GetRequiredService<IGrainFactory>();
    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => Host.Services;
    /// <summary>Whether the silo is running (not stopped or killed).</summary>
    public bool IsRunning { get; internal set; } = true;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Address})";
}

/// <summary>
/// N silos in one process, each a separate generic host listening on its own loopback port over real TCP, sharing an
/// in-memory membership table and reminder table. <see cref="StopSiloAsync"/> is a graceful stop;
/// <see cref="KillSiloAsync"/> is a crash (no graceful stages, sockets closed).
/// </summary>
public sealed class InProcessTestCluster : IAsyncDisposable
{
    private readonly Action<ISiloBuilder> _configureSilo;
    private readonly Action<ClusterOptions>? _configureOptions;
    private readonly List<SiloHandle> _silos = [];
    private readonly List<ClusterClient> _clients = [];
    private int _nextSilo;

    /// <summary>
    /// Creates an empty cluster; <paramref name="configureSilo"/> adds grains and storage to every silo. The tables
    /// default to in-memory ones; pass others (e.g. PostgreSQL, created for <paramref name="clusterId"/>) to test them.
    /// </summary>
    public InProcessTestCluster(Action<ISiloBuilder> configureSilo, Action<ClusterOptions>? configureOptions = null,
        string? clusterId = null, IMembershipTable? membershipTable = null, IReminderTable? reminderTable = null)
    {
        _configureSilo = configureSilo;
        _configureOptions = configureOptions;
        ClusterId = clusterId ?? "test-" + Guid.NewGuid().ToString("N")[..8];
        MembershipTable = membershipTable ?? new InMemoryMembershipTable();
        ReminderTable = reminderTable ?? new InMemoryReminderTable();
    }

    /// <summary>The cluster's id.</summary>
    public string ClusterId { get; }
    /// <summary>The shared membership table.</summary>
    public IMembershipTable MembershipTable { get; }
    /// <summary>The shared reminder table.</summary>
    public IReminderTable ReminderTable { get; }
    /// <summary>Every silo started so far, running or not.</summary>
    public IReadOnlyList<SiloHandle> Silos => _silos;
    /// <summary>The silos still running.</summary>
    public IReadOnlyList<SiloHandle> RunningSilos => _silos.Where(s => s.IsRunning).ToList();

    /// <summary>Options with test timings: 200 ms probes, 3 misses, 1 s IAmAlive, 30 s MaxJoinAttemptTime, 200 ms minimum reminder period.</summary>
    public ClusterOptions CreateOptions()
    {
        var options = new ClusterOptions();
        ApplyTestOptions(options);
        return options;
    }

    private void ApplyTestOptions(ClusterOptions options)
    {
        options.ClusterId = ClusterId;
        options.SiloPort = 0;
        options.ProbeTimeout = TimeSpan.FromMilliseconds(200);
        options.NumMissedProbesLimit = 3;
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(1);
        options.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
        options.ConnectTimeout = TimeSpan.FromSeconds(1);
        // Long enough for a killed peer to be declared dead (about a second) while a new silo joins.
        options.MaxJoinAttemptTime = TimeSpan.FromSeconds(30);
        options.MinimumReminderPeriod = TimeSpan.FromMilliseconds(200);
        options.ReminderRefreshPeriod = TimeSpan.FromSeconds(2);
        _configureOptions?.Invoke(options);
    }

    /// <summary>Starts <paramref name="count"/> silos one after another.</summary>
    public async Task StartAsync(int count)
    {
        for (var i = 0; i < count; i++) await StartSiloAsync();
        await WaitForViewsToConvergeAsync();
    }

    /// <summary>Starts one more silo and waits until it is Active.</summary>
    public async Task<SiloHandle> StartSiloAsync()
    {
        var name = $"silo-{_nextSilo++}";
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseGranary(silo =>
        {
            _configureSilo(silo);
            silo.UseCluster(o =>
            {
                ApplyTestOptions(o);
                o.SiloName = name;
            });
            silo.UseMembershipTable(_ => MembershipTable);
            silo.UseReminderTable(_ => ReminderTable);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        var handle = new SiloHandle(host, host.Services.GetRequiredService<ClusterSilo>(), name);
        handle.Silo.DeclaredDead += _ => handle.IsRunning = false;
        _silos.Add(handle);
        return handle;
    }

    /// <summary>Graceful stop: ShuttingDown, grains deactivate (persisting state), Dead.</summary>
    public async Task StopSiloAsync(SiloHandle silo)
    {
        silo.IsRunning = false;
        await silo.Host.StopAsync();
        silo.Host.Dispose();
    }

    /// <summary>Crash: sockets close, no table writes, no deactivation. Peers must detect it by probing.</summary>
    public Task KillSiloAsync(SiloHandle silo)
    {
        silo.IsRunning = false;
        silo.Silo.Kill();
        // Dispose without StopAsync: no graceful stage runs.
        silo.Host.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A client of this cluster that reads the shared membership table.</summary>
    public async Task<ClusterClient> CreateClientAsync(Action<ISiloBuilder> registerGrains)
    {
        var options = CreateOptions();
        var client = await ClusterClient.ConnectAsync(MembershipTable, options, registerGrains, responseTimeout: TimeSpan.FromSeconds(10));
        _clients.Add(client);
        return client;
    }

    /// <summary>Waits until every running silo's view lists exactly the running silos as Active.</summary>
    public async Task WaitForViewsToConvergeAsync(TimeSpan? limit = null)
    {
        var deadline = Stopwatch.StartNew();
        var max = limit ?? TimeSpan.FromSeconds(15);
        while (true)
        {
            var running = RunningSilos;
            var expected = running.Select(s => s.Address).Order().ToList();
            if (running.All(s => s.Silo.View.ActiveSilos.SequenceEqual(expected))) return;
            if (deadline.Elapsed > max)
            {
                var views = string.Join("; ", running.Select(s => $"{s.Name}: [{string.Join(", ", s.Silo.View.ActiveSilos)}]"));
                throw new TimeoutException($"Silo views did not converge on [{string.Join(", ", expected)}] within {max}: {views}");
            }
            await Task.Delay(20);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync();
        foreach (var silo in _silos.Where(s => s.IsRunning))
        {
            await KillSiloAsync(silo);
        }
    }
}
