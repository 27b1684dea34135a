using Granary.Runtime;
using Granary.Runtime.Cluster.Testing;
using Granary.Runtime.Cluster.Transport;
using Granary.Runtime.Invocation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Cluster.Tests;

/// <summary>Sends a raw request frame whose expiry has already passed, as a slow network would deliver it.</summary>
public static class ExpiredRequests
{
    /// <summary>
    /// Sends <c>IClusterCounterGrain.Add(5)</c> on grain <paramref name="key"/> to <paramref name="silo"/>, expired a second
    /// ago. Returns the connector that sent it: dispose it only after the silo has seen the frame.
    /// </summary>
    public static async Task<SiloConnector> SendAddAsync(InProcessTestCluster cluster, SiloHandle silo, string key)
    {
        var method = GrainInterfaceRegistry.Find(typeof(IClusterCounterGrain))!.Methods.First(m => m.MethodName == nameof(IClusterCounterGrain.Add));
        var connector = new SiloConnector(cluster.CreateOptions(), NullLogger.Instance);
        var connection = await connector.GetConnectionAsync(silo.Address);
        var header = new MessageHeader
        {
            Kind = MessageKind.Request,
            Flags = MessageFlags.NoForward,
            CorrelationId = 1,
            ExpiresAtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000,
            InterfaceId = method.InterfaceId,
            MethodId = method.MethodId,
            Target = new GrainId(typeof(ClusterCounterGrain).FullName!, key),
        };
        // Body: empty request context, then the int argument of Add.
        if (!connection.Send(header, new BytesBody(new byte[] { 0, 0, 0, 0, 5, 0, 0, 0 })))
        {
            await connector.DisposeAsync();
            throw new InvalidOperationException($"The connection to {silo} refused the frame.");
        }
        return connector;
    }
}
