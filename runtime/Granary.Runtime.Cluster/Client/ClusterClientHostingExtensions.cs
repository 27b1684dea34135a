using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Cluster.Client;

/// <summary>Runs a <see cref="ClusterClient"/> inside a generic host (the gateway): <c>services.AddGranaryClusterClient(...)</c>.</summary>
public static class ClusterClientHostingExtensions
{
    /// <summary>
    /// Adds a cluster client that connects when the host starts and closes when it stops; <see cref="IGrainFactory"/>
    /// and <see cref="ClusterClient"/> resolve to it once the host has started.
    /// </summary>
    public static IServiceCollection AddGranaryClusterClient(this IServiceCollection services,
        Func<IServiceProvider, IMembershipTable> membershipTable, Action<ClusterOptions> configure, Action<ISiloBuilder> registerGrains)
    {
        services.AddSingleton(sp =>
        {
            var options = new ClusterOptions();
            configure(options);
            return new ClusterClientHost(membershipTable(sp), options, registerGrains, sp.GetRequiredService<ILoggerFactory>());
        });
        services.AddHostedService(sp => sp.GetRequiredService<ClusterClientHost>());
        services.AddSingleton(sp => sp.GetRequiredService<ClusterClientHost>().Client);
        services.AddSingleton(sp => sp.GetRequiredService<ClusterClientHost>().Client.GrainFactory);
        return services;
    }

    /// <summary>Connects the client at host start and disposes it at host stop.</summary>
    private sealed class ClusterClientHost(IMembershipTable table, ClusterOptions options, Action<ISiloBuilder> registerGrains, ILoggerFactory loggers)
        : IHostedService
    {
        private ClusterClient? _client;

        public ClusterClient Client => _client
            ?? throw new InvalidOperationException("The cluster client is not connected yet; resolve IGrainFactory or ClusterClient after the host has started.");

        public async Task StartAsync(CancellationToken cancellationToken)
            => _client = await ClusterClient.ConnectAsync(table, options, registerGrains, loggers, cancellationToken: cancellationToken);

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_client is not null) await _client.DisposeAsync();
        }
    }
}
