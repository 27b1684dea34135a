using Granary.Security;
using Microsoft.Extensions.DependencyInjection;
using Granary.Definitions;
using Granary.Offline;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Historical;

/// <summary>
/// Runs one historical retrieval job. The join runs on a background task (inside the offline engine, streaming to the
/// output file); turns only start it, read its progress, or cancel it, so status polls never wait for the join.
/// The status lives in the activation: callers poll until the job ends (polling keeps the activation alive; the output
/// file is the durable result). Deactivating a running job cancels it.
/// </summary>
[GrainType("historical-query")]
public sealed partial class HistoricalQueryGrain(
    IFeatureDefinitionSource definitions,
    OfflineStoreSelector stores,
    IRetrievalResultReader results,
    TimeProvider time,
    ILogger<HistoricalQueryGrain> logger) : Grain, IHistoricalQueryGrain
{
    private readonly Lock _gate = new();
    private HistoricalJobStatus _live = new();
    private CancellationTokenSource? _cancel;
    private Task? _job;

    // A request's files stay inside the request-files folder; a result it only streams goes to a temporary file of the silo's choosing.
    private HistoricalJobRequest Confined(HistoricalJobRequest job)
    {
        var paths = ServiceProvider.GetRequiredService<RequestPaths>();
        return job with
        {
            EntitiesPath = job.EntitiesPath is { Length: > 0 } entities ? paths.Confine(entities, "entities_path") : job.EntitiesPath,
            OutputPath = job.OutputPath.Length == 0
                ? Path.Combine(Path.GetTempPath(), $"granary-{this.GetPrimaryKeyString()}.parquet")
                : paths.Confine(job.OutputPath, "output_path"),
        };
    }

    /// <inheritdoc/>
    public async Task<HistoricalJobStatus> Start(HistoricalJobRequest job)
    {
        if (_live.State != HistoricalJobState.NotStarted) return await GetStatus();
        if (job.FromRequest) job = Confined(job);
        if (string.IsNullOrWhiteSpace(job.OutputPath)) throw new HistoricalRetrievalException("no output file given; pass a .parquet or .csv path");
        var snapshot = await definitions.GetSnapshotAsync(job.Project);
        // Planning may compile on-demand transforms (Roslyn, seconds on first use) and reads the entity file's schema:
        // run it off the activation's turn so no thread-pool thread is held inside the grain, but still before Start
        // returns, so bad input fails the call with its message.
        var retrieval = await Task.Run(() =>
        {
            var plan = Plan(snapshot, job);
            var entities = job.InlineEntities is { } inline
                ? InlineEntities.ToDataFrame(inline)
                : EntityDataFrame.FromFile(job.EntitiesPath ?? throw new HistoricalRetrievalException("no entity dataframe given; pass a .parquet or .csv file or inline rows"));
            return new HistoricalRetrieval { Entities = entities, Plan = plan, OutputPath = Path.GetFullPath(job.OutputPath) };
        });
        var store = stores.For(retrieval.Plan);

        lock (_gate)
        {
            _live = new HistoricalJobStatus
            {
                JobId = this.GetPrimaryKeyString(), State = HistoricalJobState.Running, Phase = "starting",
                OutputPath = retrieval.OutputPath, StartedAt = time.GetUtcNow(),
            };
        }

        _cancel = new CancellationTokenSource();
        var token = _cancel.Token;
        var progress = new InlineProgress(p => Update(s => s with { Phase = p.Phase, Percent = p.Percent, EntityRows = Math.Max(s.EntityRows, p.EntityRows), OutputRows = p.OutputRows }));
        _job = Task.Run(async () =>
        {
            try
            {
                var result = await store.RunPointInTimeJoinAsync(retrieval, progress, token);
                Update(s => s with
                {
                    State = HistoricalJobState.Succeeded, Phase = "done", Percent = 100, EntityRows = result.EntityRows, OutputRows = result.OutputRows,
                    Columns = result.Columns, FinishedAt = time.GetUtcNow(),
                });
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                // Cancelled, whatever the engine threw as its statement was interrupted (it need not be an OperationCanceledException).
                Update(s => s with { State = HistoricalJobState.Cancelled, FinishedAt = time.GetUtcNow() });
            }
            catch (Exception e)
            {
                var failure = JobError.From(e);
                if (failure.Kind == JobErrorKind.Internal) LogFailure(e, this.GetPrimaryKeyString());
                Update(s => s with { State = HistoricalJobState.Failed, Error = e.Message, Failure = failure, FinishedAt = time.GetUtcNow() });
            }
        }, CancellationToken.None);
        return Snapshot();
    }

    private HistoricalRetrievalPlan Plan(RegistrySnapshot snapshot, HistoricalJobRequest request)
    {
        if (request.FeatureService is { Length: > 0 } service)
        {
            if (request.Features.Count > 0) throw new HistoricalRetrievalException("pass either feature references or a feature service, not both");
            return HistoricalRetrievalPlanner.ForService(snapshot, service, request.FullFeatureNames, TransformsOf(snapshot));
        }
        var references = request.Features.Select(FeatureReference.Parse).ToList();
        return HistoricalRetrievalPlanner.ForFeatures(snapshot, references, request.FullFeatureNames, TransformsOf(snapshot));
    }

    private Func<OnDemandFeatureView, IOnDemandTransform> TransformsOf(RegistrySnapshot snapshot) => view => definitions.GetTransform(snapshot, view);

    /// <inheritdoc/>
    public Task<HistoricalJobStatus> GetStatus() => Task.FromResult(Snapshot() with { JobId = this.GetPrimaryKeyString() });

    /// <inheritdoc/>
    public async Task<HistoricalJobStatus> Cancel()
    {
        if (_cancel is not null && _job is not null && !_job.IsCompleted)
        {
            await _cancel.CancelAsync();
            await _job;
        }
        return await GetStatus();
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<HistoricalResultRows> ReadRows(int chunkRows)
    {
        var status = Snapshot();
        if (status.State != HistoricalJobState.Succeeded)
            throw new HistoricalRetrievalException($"historical job '{this.GetPrimaryKeyString()}' has no result to read: it is {status.State}; read the rows once the job has succeeded");
        await foreach (var chunk in results.ReadAsync(status.OutputPath, chunkRows))
            yield return new HistoricalResultRows { ColumnNames = chunk.ColumnNames, FirstRow = chunk.FirstRow, Columns = chunk.Columns };
    }

    /// <inheritdoc/>
    public async Task DeleteOutput()
    {
        await Cancel();
        var path = Snapshot().OutputPath;
        if (string.IsNullOrEmpty(path)) return;
        try { File.Delete(path); }
        catch (IOException) { /* still open elsewhere or gone: a temporary file in the temp folder either way */ }
        catch (UnauthorizedAccessException) { }
    }

    /// <inheritdoc/>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_job is { IsCompleted: false })
        {
            await _cancel!.CancelAsync();
            await _job.WaitAsync(cancellationToken);
        }
        _cancel?.Dispose();
    }

    private HistoricalJobStatus Snapshot()
    {
        lock (_gate) return _live;
    }

    private void Update(Func<HistoricalJobStatus, HistoricalJobStatus> change)
    {
        lock (_gate)
        {
            // A finished job's status is final: late progress reports must not reopen it.
            if (_live.IsFinished) return;
            _live = change(_live);
        }
    }

    // Only faults are logged: bad input is the caller's to fix and reaches them in the status.
    [LoggerMessage(Level = LogLevel.Error, Message = "Historical job {JobId} failed")]
    private partial void LogFailure(Exception error, string jobId);

    /// <summary>Applies progress on the reporting thread (the grain's status lock makes that safe), unlike Progress&lt;T&gt;, which posts.</summary>
    private sealed class InlineProgress(Action<HistoricalRetrievalProgress> report) : IProgress<HistoricalRetrievalProgress>
    {
        public void Report(HistoricalRetrievalProgress value) => report(value);
    }
}
