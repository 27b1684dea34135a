using Granary.Grains.Health;
using Granary.FeatureHealth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.FeatureHealth;

/// <summary>Adds feature health to the gateway: the feature logger, and the start-up call that sets the health check schedule.</summary>
public static class FeatureHealthServices
{
    /// <summary>Adds the <see cref="FeatureLogger"/> (a hosted service) and <see cref="HealthScheduleStarter"/>.</summary>
    public static IServiceCollection AddFeatureHealth(this IServiceCollection services)
    {
        services.TryAddSingleton<FeatureLogger>();
        services.AddHostedService(sp => sp.GetRequiredService<FeatureLogger>());
        services.AddHostedService<HealthScheduleStarter>();
        return services;
    }
}

/// <summary>
/// Asks the project's <see cref="IFeatureHealthGrain"/> to register the parity and drift reminders granary.yaml sets, once
/// the cluster answers (retried in the background, so a gateway may start before its silos).
/// </summary>
public sealed partial class HealthScheduleStarter(IGrainFactory grains, IOptions<GatewayOptions> options, ILogger<HealthScheduleStarter> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IFeatureHealthGrain>(options.Value.Project).EnsureScheduleAsync();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogNotScheduled(logger, attempt, e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 2 * attempt)), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health check schedule not set yet (attempt {Attempt}): {Reason}")]
    private static partial void LogNotScheduled(ILogger logger, int attempt, string reason);
}
