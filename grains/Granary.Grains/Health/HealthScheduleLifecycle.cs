using Granary.Repository;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Granary.Grains.Health;

/// <summary>
/// Sets the health check schedule of the silo's project once the silo is active: asks its <see cref="IFeatureHealthGrain"/>
/// to register the parity and drift reminders granary.yaml's <c>health:</c> section names (only when it names one). Runs in the
/// background and retries until the cluster answers, so neither the silo's start nor a gateway waits on it.
/// </summary>
internal sealed partial class HealthScheduleLifecycle(IGrainFactory grains, IServiceProvider services, ILogger<HealthScheduleLifecycle> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _scheduling = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(HealthScheduleLifecycle), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        // A silo without a repository (AddGranaryGrains alone) or without a reminder service has no schedule to set.
        if (services.GetService<RepositoryConfig>() is not { Project: { Length: > 0 } project } config) return Task.CompletedTask;
        // Nothing scheduled: no grain to wake (short CLI commands start silos too). A reminder left from a removed schedule
        // unregisters itself at its next tick (FeatureHealthGrain.ReceiveReminder).
        if (config.Health.ParityEvery is null && config.Health.DriftEvery is null) return Task.CompletedTask;
        if (services.GetService<Orleans.IReminderTable>() is null)
        {
            LogNoReminders(logger, project);
            return Task.CompletedTask;
        }
        _scheduling = Task.Run(() => ScheduleAsync(project, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ScheduleAsync(string project, CancellationToken stopping)
    {
        for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IFeatureHealthGrain>(project).EnsureScheduleAsync().WaitAsync(stopping);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogNotScheduled(logger, project, attempt, e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 2 * attempt)), stopping); }
                catch (OperationCanceledException) { return; }
            }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try { await _scheduling.WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { }
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health check schedule of project {Project} not set yet (attempt {Attempt}): {Reason}")]
    private static partial void LogNotScheduled(ILogger logger, string project, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No reminder service on this silo: the health checks of project {Project} are not scheduled")]
    private static partial void LogNoReminders(ILogger logger, string project);
}
