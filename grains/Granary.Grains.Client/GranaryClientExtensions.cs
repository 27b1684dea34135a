using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Granary.Grains.Client;

/// <summary>Wires an Orleans client (the gateway, any host calling the cluster) to call the feature store's grains.</summary>
public static class GranaryClientExtensions
{
    /// <summary>
    /// Adds the serializers for core's types that the grains' calls carry (the silo adds the same), and the failover
    /// timings of <see cref="ClusterClientTimingOptions"/> (section <c>Granary:Client</c> of the host's configuration,
    /// checked when the client starts) as Orleans' response timeout and gateway list refresh.
    /// </summary>
    public static IClientBuilder AddGranaryClient(this IClientBuilder client)
    {
        client.Services.AddGranarySerialization();
        client.Services.AddOptions<ClusterClientTimingOptions>()
            .Bind(client.Configuration.GetSection(ClusterClientTimingOptions.Section))
            .ValidateOnStart();
        client.Services.AddSingleton<IValidateOptions<ClusterClientTimingOptions>, ClusterClientTimingOptionsValidator>();
        client.Services.AddOptions<ClientMessagingOptions>()
            .Configure<IOptions<ClusterClientTimingOptions>>((messaging, timings) => messaging.ResponseTimeout = timings.Value.ResponseTimeout);
        client.Services.AddOptions<GatewayOptions>()
            .Configure<IOptions<ClusterClientTimingOptions>>((gateways, timings) => gateways.GatewayListRefreshPeriod = timings.Value.GatewayListRefreshPeriod);
        return client;
    }
}
