namespace Granary.Grains.Client;

/// <summary>Wires an Orleans client (the gateway, the CLI against a cluster) to call the feature store's grains.</summary>
public static class GranaryClientExtensions
{
    /// <summary>Adds the serializers for core's types that the grains' calls carry (the silo adds the same).</summary>
    public static IClientBuilder AddGranaryClient(this IClientBuilder client)
    {
        client.Services.AddGranarySerialization();
        return client;
    }
}
