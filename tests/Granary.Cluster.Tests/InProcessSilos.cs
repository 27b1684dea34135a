using System.Net;
using Granary.Clustering.PostgreSql;
using Granary.Grains.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Granary.Cluster.Tests;

/// <summary>Silo and client hosts inside the test process, each its own IHost, joined through real servers.</summary>
public static class InProcessSilos
{
    public static async Task<IHost> StartSiloAsync(string clusterId, Action<ISiloBuilder> configure)
    {
        var ports = FreePorts.Take(2);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = clusterId; });
            silo.ConfigureEndpoints(IPAddress.Loopback, ports[0], ports[1], listenOnAnyHostAddress: false);
            configure(silo);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static Task<IHost> StartPostgresSiloAsync(string clusterId, string connectionString) =>
        StartSiloAsync(clusterId, silo =>
        {
            silo.UseGranaryPostgresClustering(connectionString);
            silo.AddMemoryGrainStorageAsDefault();
            // Orleans refuses reminder periods under a minute unless told otherwise.
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromMilliseconds(500));
        });

    public static async Task<IHost> StartPostgresClientAsync(string clusterId, string connectionString, Action<IClientBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = clusterId; });
            client.UseGranaryPostgresClustering(connectionString);
            // Granary's client timings (a call to a dead silo fails after seconds, not Orleans' 30 s), tighter still here.
            client.AddGranaryClient();
            client.Services.Configure<ClusterClientTimingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(2));
            configure?.Invoke(client);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static async Task StopAllAsync(IEnumerable<IHost> hosts)
    {
        foreach (var host in hosts.Reverse())
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await host.StopAsync(timeout.Token);
            }
            catch (Exception)
            {
                // A host that fails to stop cleanly must not hide the test's own result.
            }
            host.Dispose();
        }
    }

    public static IClusterClient Client(this IHost host) => host.Services.GetRequiredService<IClusterClient>();

    public static IGrainFactory Grains(this IHost host) => host.Services.GetRequiredService<IGrainFactory>();
}
