using Granary.Gateway.Limits;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Gateway.Security;

/// <summary>Registers the audit trail and the request limits of the gateway.</summary>
public static class AuditTrailExtensions
{
    /// <summary>
    /// Adds the audit trail (its middleware runs right after the request metrics, before authentication, so refusals
    /// are audited; its writer drains on a clean stop). Startup filters run in the order they are added.
    /// </summary>
    public static IServiceCollection AddGranaryAuditTrail(this IServiceCollection services)
    {
        services.TryAddSingleton<AuditTrail>();
        services.TryAddSingleton<AuditTrailMiddleware>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditTrail>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, AuditTrailStartupFilter>());
        return services;
    }

    /// <summary>Adds the per-principal rate limits; add after authentication, so requests are counted per principal.</summary>
    public static IServiceCollection AddGranaryRateLimits(this IServiceCollection services)
    {
        services.TryAddSingleton<RateLimits>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, RateLimitsStartupFilter>());
        return services;
    }
}
