using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Gateway.FeatureHealth;

/// <summary>
/// Adds feature health to the gateway: the feature logger. The health check schedule is set by the silos themselves
/// (a lifecycle participant of AddGranaryGrains), so a cluster without a gateway still runs its checks.
/// </summary>
public static class FeatureHealthServices
{
    /// <summary>Adds the <see cref="FeatureLogger"/> (a hosted service).</summary>
    public static IServiceCollection AddFeatureHealth(this IServiceCollection services)
    {
        services.TryAddSingleton<FeatureLogger>();
        services.AddHostedService(sp => sp.GetRequiredService<FeatureLogger>());
        return services;
    }
}
