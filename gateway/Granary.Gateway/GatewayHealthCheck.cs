using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.Online;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Granary.Gateway;

/// <summary>
/// Healthy when the cluster answers (the project's registry grain, within <see cref="GatewayOptions.HealthTimeout"/>) and
/// the online store answers its probe: run here where this process holds the store (co-hosted with a silo), else by a
/// silo (<see cref="IOnlineStoreHealthGrain"/>). Serves REST
/// <c>/health</c> and the standard gRPC health service.
/// </summary>
public sealed class GatewayHealthCheck(IGrainFactory grains, IOptions<GatewayOptions> options, IEnumerable<IOnlineStore> onlineStores) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var details = new List<string>();
        try
        {
            var snapshot = await grains.GetGrain<IRegistryGrain>(o.Project).GetSnapshotAsync().WaitAsync(o.HealthTimeout, cancellationToken);
            details.Add($"cluster answered: project '{o.Project}' at registry version {snapshot.Version}");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"cluster unreachable: {(e is TimeoutException ? $"no answer within {o.HealthTimeout.TotalSeconds:0.#} s" : e.Message)}");
        }
        if (!onlineStores.Any())
        {
            // A cluster client holds no online store: a silo probes it on the gateway's behalf.
            OnlineStoreProbe probe;
            try
            {
                probe = await grains.GetGrain<IOnlineStoreHealthGrain>(0).ProbeAsync(o.HealthTimeout).WaitAsync(o.HealthTimeout * 2, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"online store unknown: the silo's probe {(e is TimeoutException ? $"did not answer within {(o.HealthTimeout * 2).TotalSeconds:0.#} s" : $"failed: {e.Message}")}");
            }
            if (!probe.Healthy) return HealthCheckResult.Unhealthy($"online store unreachable (probed by silo {probe.Silo}): {probe.Detail}");
            details.Add($"online store (probed by silo {probe.Silo}): {probe.Detail}");
        }
        foreach (var store in onlineStores)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(o.HealthTimeout);
            OnlineStoreHealth health;
            try
            {
                health = await store.CheckHealthAsync(timeout.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                health = new OnlineStoreHealth(false, o.HealthTimeout, e.Message);
            }
            if (!health.Healthy) return HealthCheckResult.Unhealthy($"online store unreachable: {health.Detail}");
            details.Add($"online store: {health.Detail}");
        }
        return HealthCheckResult.Healthy(string.Join("; ", details));
    }
}
