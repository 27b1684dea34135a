using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Repository;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Granary.Grains.Streams;

/// <summary>
/// On every silo while it is Active: every <see cref="StreamIngestOptions.EnsureEvery"/>, asks the
/// <see cref="IStreamIngestGrain"/> of each push source that names a stream to run. Orleans places each on one silo; the
/// repeated calls keep it active, and re-activate it on a live silo after its silo died.
/// </summary>
internal sealed partial class StreamIngestLifecycle(
    IGrainFactory grains, RegistryCache registry, RepositoryConfig config, IOptions<StreamIngestOptions> options, ILogger<StreamIngestLifecycle> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(StreamIngestLifecycle), ServiceLifecycleStage.Active, Start, StopAsync);

    private Task Start(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => LoopAsync(config.Project, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try { await _loop.WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { }
    }

    private async Task LoopAsync(string project, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var snapshot = await registry.GetAsync(project);
                foreach (var source in snapshot.DataSources)
                {
                    if (source is not PushSource { Stream: not null }) continue;
                    var status = await grains.GetGrain<IStreamIngestGrain>($"{project}/{source.Name}").EnsureRunningAsync().WaitAsync(stopping);
                    if (status.LastError is { } error) LogWorkerError(logger, source.Name, status.Silo, error);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogEnsureFailed(logger, project, e.Message);
            }
            try { await Task.Delay(options.Value.EnsureEvery, stopping); }
            catch (OperationCanceledException) { return; }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream ingest of {PushSource} on {Silo} stopped ({Error}); restarted")]
    private static partial void LogWorkerError(ILogger logger, string pushSource, string silo, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not make sure the stream workers of project {Project} run: {Reason}; trying again")]
    private static partial void LogEnsureFailed(ILogger logger, string project, string reason);
}
