using Granary.Security;
using Granary.Grains.Online;
using Granary.Grains.Registry;
using Granary.FeatureHealth;
using Granary.Offline;
using Granary.Repository;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Granary.Grains.Health;

/// <summary>The last health results of a project, per view, kept in grain state so a restarted silo still shows them.</summary>
[GenerateSerializer, Alias("granary.FeatureHealthState")]
public sealed class FeatureHealthState
{
    /// <summary>The last parity result per view.</summary>
    [Id(0)] public Dictionary<string, ParityViewResult> Parity { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The last drift result per view.</summary>
    [Id(1)] public Dictionary<string, DriftViewResult> Drift { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Runs parity and drift checks of one project (core's <see cref="ParityChecker"/> and <see cref="DriftChecker"/>) with the
/// silo's stores and the entity grains, keeps the last result per view, publishes it to <see cref="HealthMetrics"/>, and
/// runs the checks on the schedule granary.yaml's <c>health:</c> section sets.
/// </summary>
/// <remarks>
/// The gauges live in the process hosting the activation: it publishes them on activation and withdraws them on
/// deactivation, so a silo the grain moved away from stops reporting old values. Kept alive (not collected when idle),
/// so the gauges do not vanish between scheduled ticks; it still moves on silo shutdown, rebalancing or an explicit deactivation.
/// </remarks>
[GrainType("feature-health"), KeepAlive]
public sealed partial class FeatureHealthGrain(
    [PersistentState("feature-health")] IPersistentState<FeatureHealthState> state,
    RegistryCache registry,
    IEnumerable<IOfflineStore> offlineStores,
    TimeProvider time,
    IServiceProvider services,
    ILogger<FeatureHealthGrain> logger) : Grain, IFeatureHealthGrain
{
    private const string ParityReminder = "parity-schedule";
    private const string DriftReminder = "drift-schedule";

    private string Project => this.GetPrimaryKeyString();
    private RepositoryConfig? Config => services.GetService<RepositoryConfig>();

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A new activation (another silo, a restart) shows the last results on its gauges at once.
        HealthMetrics.Record(this, new ParityReport([.. state.State.Parity.Values]));
        HealthMetrics.Record(this, new DriftReport([.. state.State.Drift.Values]));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation (maybe on another silo) publishes them there; this process must not keep reporting them.
        HealthMetrics.Forget(this);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<ParityReport> RunParityAsync(ParityRequest request)
    {
        var snapshot = await registry.GetAsync(Project);
        var checker = new ParityChecker(offlineStores, new EntityGrainFeatureSource(GrainFactory), time);
        var work = Path.Combine(Path.GetTempPath(), "granary-parity");
        // The join and the reads run off the activation's turn; the grain only awaits them.
        var report = await Task.Run(() => checker.RunAsync(snapshot, request, work));
        foreach (var view in report.Views) state.State.Parity[view.FeatureView] = view;
        await state.WriteStateAsync();
        HealthMetrics.Record(this, report);
        return report;
    }

    /// <inheritdoc/>
    public Task<ParityReport> GetParityAsync() => Task.FromResult(new ParityReport([.. state.State.Parity.Values.OrderBy(v => v.FeatureView, StringComparer.Ordinal)]));

    /// <inheritdoc/>
    public async Task<DriftReport> RunDriftAsync(DriftRequest request)
    {
        var snapshot = await registry.GetAsync(Project);
        var config = Config;
        var reader = services.GetService<ITrainingSetReader>()
            ?? throw new DriftException("this silo has no training-set reader, so it cannot read a drift baseline",
                "host the silo with AddGranary, whose store registration reads Parquet and CSV baselines with DuckDB");
        var checker = new DriftChecker(offlineStores, reader, time);
        if (request.FromRequest)
            request = request with { Baseline = services.GetRequiredService<RequestPaths>().Confine(request.Baseline, "baseline", config?.RepositoryRoot) };
        var logFolder = config?.FeatureLogging.Path ?? FeatureLoggingConfig.DefaultPath;
        var thresholds = request.Thresholds ?? config?.Health.Thresholds ?? new DriftThresholds();
        var report = await Task.Run(() => checker.RunAsync(snapshot, request, logFolder, config?.RepositoryRoot, thresholds));
        foreach (var view in report.Views) state.State.Drift[view.FeatureView] = view;
        await state.WriteStateAsync();
        HealthMetrics.Record(this, report);
        return report;
    }

    /// <inheritdoc/>
    public Task<DriftReport> GetDriftAsync() => Task.FromResult(new DriftReport([.. state.State.Drift.Values.OrderBy(v => v.FeatureView, StringComparer.Ordinal)]));

    /// <inheritdoc/>
    public async Task EnsureScheduleAsync()
    {
        var health = Config?.Health ?? new HealthConfig();
        await ScheduleAsync(ParityReminder, health.ParityEvery);
        await ScheduleAsync(DriftReminder, health.DriftBaseline is null ? null : health.DriftEvery);
    }

    private async Task ScheduleAsync(string name, TimeSpan? every)
    {
        if (every is { } period) await this.RegisterOrUpdateReminder(name, period, period);
        else if (await this.GetReminder(name) is { } reminder) await this.UnregisterReminder(reminder);
    }

    /// <inheritdoc/>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var health = Config?.Health ?? new HealthConfig();
        // A schedule removed from granary.yaml since the reminder was registered: drop the reminder instead of checking.
        var scheduled = reminderName == ParityReminder ? health.ParityEvery is not null
            : reminderName == DriftReminder && health.DriftEvery is not null && health.DriftBaseline is not null;
        if (!scheduled)
        {
            if (await this.GetReminder(reminderName) is { } stale) await this.UnregisterReminder(stale);
            return;
        }
        try
        {
            if (reminderName == ParityReminder)
                await RunParityAsync(new ParityRequest { Views = health.ParityViews, Sample = health.ParitySample });
            else if (reminderName == DriftReminder && health.DriftBaseline is { } baseline)
                await RunDriftAsync(new DriftRequest { Baseline = baseline, Window = health.DriftWindow, Views = health.DriftViews });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failed scheduled check must not stop the reminder; the next tick tries again.
            LogScheduledCheckFailed(logger, reminderName, Project, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled {Check} of project {Project} failed: {Reason}")]
    private static partial void LogScheduledCheckFailed(ILogger logger, string check, string project, string reason);
}
