using Granary.Definitions;
using Granary.Grains.Push;
using Granary.Grains.Registry;
using Granary.Push;
using Granary.Streams;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Streams;

/// <summary>
/// Runs the ingest worker of one push source's stream on this silo, on the thread pool (it calls the push grain like any
/// client and never blocks this grain's calls). Started by <see cref="EnsureRunningAsync"/>, stopped on deactivation; a
/// worker that failed is restarted by the next call. Events it read but never acknowledged when its silo died are claimed
/// by the next owner after the stream's <c>claim_after</c>.
/// </summary>
[GrainType("stream-ingest")]
public sealed partial class StreamIngestGrain(
    RegistryCache registry, IEnumerable<IStreamSourceProvider> providers, IOptions<StreamIngestOptions> options, IOptions<PushOptions> push,
    TimeProvider clock, ILoggerFactory loggers, ILogger<StreamIngestGrain> logger) : Grain, IStreamIngestGrain
{
    private CancellationTokenSource? _stop;
    private Task _running = Task.CompletedTask;
    private StreamIngestWorker? _worker;
    private IStreamSource? _source;
    private string? _lastError;

    /// <inheritdoc/>
    public async Task<StreamIngestStatus> EnsureRunningAsync()
    {
        if (_running.IsCompleted)
        {
            if (_running.IsFaulted) _lastError = _running.Exception!.GetBaseException().Message;
            await StopAsync();
            await StartAsync();
        }
        var p = _worker?.Progress;
        return new StreamIngestStatus(RuntimeIdentity, p?.Read ?? 0, p?.Pushed ?? 0, p?.Duplicates ?? 0, p?.DeadLettered ?? 0, p?.Claimed ?? 0, _lastError);
    }

    private async Task StartAsync()
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/');
        var (project, name) = (key[..slash], key[(slash + 1)..]);
        var snapshot = await registry.GetAsync(project);
        if (snapshot.DataSources.FirstOrDefault(d => d.Name == name) is not PushSource { Stream: { } stream })
        {
            // The stream was removed from the definitions: nothing to run; the silos stop asking.
            DeactivateOnIdle();
            return;
        }
        PushModes.TryParse(stream.To, out var mode);
        var consumer = $"{RuntimeIdentity}/{key}";
        _source = await StreamSources.OpenAsync(providers, stream, consumer, options.Value.DefaultConnection, CancellationToken.None);
        _worker = new StreamIngestWorker(name, stream, _source, new PushGrainStreamTarget(GrainFactory, project, name, mode),
            push.Value.EventIdColumn, clock, loggers.CreateLogger<StreamIngestWorker>());
        _stop = new CancellationTokenSource();
        var worker = _worker;
        var token = _stop.Token;
        LogStarted(logger, key, stream.Key, RuntimeIdentity);
        _running = Task.Run(() => worker.RunAsync(token), CancellationToken.None);
    }

    private async Task StopAsync()
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync();
            try { await _running.WaitAsync(TimeSpan.FromSeconds(10)); }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
            catch (Exception e) { _lastError = e.Message; }
            _stop.Dispose();
            _stop = null;
        }
        if (_source is not null) await _source.DisposeAsync();
        _source = null;
        _worker = null;
        _running = Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => StopAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream ingest {Key} started on {Silo}, reading {Stream}")]
    private static partial void LogStarted(ILogger logger, string key, string stream, string silo);
}
