using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Observability;
using Granary.Offline;
using Granary.Online;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Granary.Grains.Online;

/// <summary>Materialization defaults.</summary>
public sealed class MaterializationOptions
{
    /// <summary>
    /// Entity-hash partitions per run (spread over the silos); default (null) <see cref="PartitionsPerSilo"/> per active silo.
    /// Each partition scans the view's whole source (the hash filter cannot prune a Parquet scan), so more partitions than
    /// the cluster's cores cost read work: on 2 cores, 8 partitions of a 10M-row view took 85 s against 69 s for 2.
    /// </summary>
    public int? Partitions { get; set; }
    /// <summary>Partitions per active silo when <see cref="Partitions"/> is not set; default 2.</summary>
    public int PartitionsPerSilo { get; set; } = 2;
    /// <summary>Rows per online-store write batch; default 2,000.</summary>
    public int BatchSize { get; set; } = 2_000;
    /// <summary>Write batches in flight per partition (pipelining); default 4.</summary>
    public int BatchesInFlight { get; set; } = 4;
    /// <summary>Attempts per partition before the run fails (a silo dying mid-partition costs one); default 5.</summary>
    public int PartitionAttempts { get; set; } = 5;

    /// <summary>The configuration section.</summary>
    public const string SectionName = "Granary:Materialization";

    /// <summary>The problems of these options (empty when valid), each naming the key, the value and the fix.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        // Upper bounds catch a slipped digit; each is far beyond what a cluster benefits from (every partition scans the whole source).
        if (Partitions is { } p && p is < 1 or > 1024)
            problems.Add($"{SectionName}:Partitions is {p}; give 1 to 1024 partitions per run, or remove it to run PartitionsPerSilo (default 2) per active silo");
        Check(PartitionsPerSilo, nameof(PartitionsPerSilo), 64, "2", problems);
        Check(BatchSize, nameof(BatchSize), 1_000_000, "2000", problems);
        Check(BatchesInFlight, nameof(BatchesInFlight), 1024, "4", problems);
        Check(PartitionAttempts, nameof(PartitionAttempts), 100, "5", problems);
        return problems;

        static void Check(int value, string key, int max, string fallback, List<string> problems)
        {
            if (value < 1 || value > max)
                problems.Add($"{SectionName}:{key} is {value}; give a whole number from 1 to {max} (default {fallback})");
        }
    }
}

/// <summary>The checkpoint of a materialization run, kept in grain state so a run survives its silo.</summary>
[GenerateSerializer, Alias("granary.MaterializationCheckpoint")]
public sealed class MaterializationCheckpoint
{
    /// <summary>Identifies the run (partition grains are keyed by it).</summary>
    [Id(0)] public string RunId { get; set; } = "";
    /// <summary>The run's state.</summary>
    [Id(1)] public MaterializationRunState State { get; set; }
    /// <summary>Window start.</summary>
    [Id(2)] public DateTimeOffset Start { get; set; }
    /// <summary>Window end.</summary>
    [Id(3)] public DateTimeOffset End { get; set; }
    /// <summary>Rows written per partition; -1 while a partition is not finished.</summary>
    [Id(4)] public long[] PartitionRows { get; set; } = [];
    /// <summary>Why the run failed.</summary>
    [Id(5)] public string? Error { get; set; }
    /// <summary>When it started.</summary>
    [Id(6)] public DateTimeOffset? StartedAt { get; set; }
    /// <summary>When it ended.</summary>
    [Id(7)] public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>Resumes after a silo failure.</summary>
    [Id(8)] public int Resumes { get; set; }
    /// <summary>The schedule's lookback, when scheduled.</summary>
    [Id(9)] public TimeSpan ScheduleLookback { get; set; }
    /// <summary>The schedule's interval, when scheduled (republished as a metric when the grain activates).</summary>
    [Id(10)] public TimeSpan? ScheduleEvery { get; set; }
    /// <summary>Whether this run passed (or had no) quality gate, so a resumed run does not check again.</summary>
    [Id(11)] public bool GateChecked { get; set; }
    /// <summary>The last quality-gate check of the view (kept across runs).</summary>
    [Id(12)] public Granary.Quality.QualityGateResult? Gate { get; set; }
}

/// <summary>
/// Coordinates runs of one view: plans partitions, runs them on partition grains (placed anywhere in the cluster), records
/// each finished partition in the checkpoint, and on completion invalidates every silo's cached rows of the view and
/// records the interval in the registry. The run loop lives in the activation; a new activation resumes a running checkpoint.
/// </summary>
[GrainType("materialization")]
public sealed partial class MaterializationGrain(
    [PersistentState("materialization")] IPersistentState<MaterializationCheckpoint> checkpoint,
    RegistryCache registry,
    TimeProvider time,
    IOptions<MaterializationOptions> options,
    ILogger<MaterializationGrain> logger) : Grain, IMaterializationGrain
{
    private const string ScheduleReminder = "materialize-schedule";
    // Partitions finish concurrently (their awaits interleave in this activation); two overlapping WriteStateAsync calls
    // would send the same etag and the second would fail with InconsistentStateException (Redis storage checks etags).
    private readonly SemaphoreSlim _saving = new(1, 1);
    private Task? _run;

    // The key is <project>/<view>; a key without '/' is refused with the form it must have, not an index error.
    private string Key => this.GetPrimaryKeyString();
    private string Project => Key[..Separator];
    private string View => Key[(Separator + 1)..];
    private int Separator => Key.IndexOf('/') is var i and > 0 ? i
        : throw new MaterializationException($"materialization grain key '{Key}' is not <project>/<feature view>", "address it as GetGrain<IMaterializationGrain>(\"<project>/<view>\")");

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Metrics of this silo start empty after a restart or a move: republish what the checkpoint knows.
        if (checkpoint.State.ScheduleEvery is { } every) GranaryMetrics.NoteMaterializationSchedule(View, every);
        if (checkpoint.State is { State: MaterializationRunState.Succeeded, FinishedAt: { } finished })
            GranaryMetrics.NoteMaterializationSuccess(View, checkpoint.State.End, finished);
        if (checkpoint.State.State == MaterializationRunState.Running)
        {
            // The silo that ran this checkpoint stopped: carry on with the partitions not yet finished.
            checkpoint.State.Resumes++;
            LogResuming(logger, Key, checkpoint.State.PartitionRows.Count(r => r >= 0), checkpoint.State.PartitionRows.Length);
            _run = RunAsync();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<MaterializationStatus> StartAsync(DateTimeOffset start, DateTimeOffset end, bool incremental)
    {
        var snapshot = await registry.GetAsync(Project);
        var view = snapshot.FeatureViews.FirstOrDefault(v => v.Name == View) ?? throw new MaterializationException(
            $"project '{Project}' (registry version {snapshot.Version}) has no feature view '{View}'; known: {string.Join(", ", snapshot.FeatureViews.Select(v => v.Name).DefaultIfEmpty("(none)"))}");
        if (!view.Online) throw new MaterializationException($"feature view '{View}' has online: false; set online: true to materialize it");
        if (incremental) start = IncrementalStart(snapshot, view, end);
        if (end < start) throw new MaterializationException($"materialization window of '{View}' ends ({end:O}) before it starts ({start:O})", "pass an end after the start");

        var state = checkpoint.State;
        if (state.State == MaterializationRunState.Running)
        {
            if (state.Start == start && state.End == end) return await GetStatusAsync();
            throw new MaterializationException($"feature view '{View}' is already materializing [{state.Start:O}, {state.End:O}]; wait for it to finish",
                "poll its status, then start the next window");
        }
        var partitions = Math.Max(1, options.Value.Partitions
            ?? options.Value.PartitionsPerSilo * (await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
        checkpoint.State = new MaterializationCheckpoint
        {
            RunId = Guid.NewGuid().ToString("N"), State = MaterializationRunState.Running, Start = start, End = end,
            PartitionRows = Enumerable.Repeat(-1L, partitions).ToArray(), StartedAt = time.GetUtcNow(), ScheduleLookback = state.ScheduleLookback,
            ScheduleEvery = state.ScheduleEvery, Gate = state.Gate,
        };
        GranaryMetrics.NoteFreshnessSla(View, OnlineReadRules.FreshnessSlaOf(view));
        GranaryMetrics.RecordMaterializationStarted(View);
        await SaveCheckpointAsync();
        _run = RunAsync();
        return await GetStatusAsync();
    }

    /// <inheritdoc/>
    public async Task<MaterializationStatus> GetStatusAsync()
    {
        var state = checkpoint.State;
        long rows = state.PartitionRows.Where(r => r > 0).Sum();
        if (state.State == MaterializationRunState.Running)
        {
            // Rows of running partitions, best effort: a partition on a silo that is going away just counts as 0.
            var running = state.PartitionRows.Select((r, i) => (r, i)).Where(p => p.r < 0)
                .Select(p => Partition(p.i).GetProgressAsync().ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : 0, TaskScheduler.Default));
            rows += (await Task.WhenAll(running)).Sum();
        }
        return new MaterializationStatus
        {
            View = View, State = state.State, Start = state.Start, End = state.End, Partitions = state.PartitionRows.Length,
            PartitionsDone = state.PartitionRows.Count(r => r >= 0), RowsWritten = rows, Error = state.Error,
            StartedAt = state.StartedAt, FinishedAt = state.FinishedAt, Resumes = state.Resumes, QualityGate = state.Gate,
        };
    }

    /// <inheritdoc/>
    public async Task ScheduleAsync(TimeSpan? every, TimeSpan lookback)
    {
        if (every is null)
        {
            if (await this.GetReminder(ScheduleReminder) is { } reminder) await this.UnregisterReminder(reminder);
            checkpoint.State.ScheduleEvery = null;
            await SaveCheckpointAsync();
            GranaryMetrics.NoteMaterializationSchedule(View, null);
            return;
        }
        checkpoint.State.ScheduleLookback = lookback;
        checkpoint.State.ScheduleEvery = every;
        GranaryMetrics.NoteMaterializationSchedule(View, every);
        await SaveCheckpointAsync();
        await this.RegisterOrUpdateReminder(ScheduleReminder, every.Value, every.Value);
    }

    /// <inheritdoc/>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ScheduleReminder || checkpoint.State.State == MaterializationRunState.Running) return;
        var now = time.GetUtcNow();
        try
        {
            await StartAsync(now - checkpoint.State.ScheduleLookback, now, incremental: false);
        }
        catch (Exception e) when (e is GranaryException)
        {
            LogScheduledRunRefused(logger, Key, e.Message);
        }
    }

    private static DateTimeOffset IncrementalStart(RegistrySnapshot snapshot, FeatureView view, DateTimeOffset end)
    {
        if (snapshot.MaterializationIntervals.TryGetValue(view.Name, out var intervals) && intervals.Count > 0)
            return intervals.Max(i => i.End);
        return end - (view.HasTtl ? view.Ttl!.Value : TimeSpan.FromDays(7 * 52));
    }

    private IMaterializationPartitionGrain Partition(int index)
        => GrainFactory.GetGrain<IMaterializationPartitionGrain>($"{Key}/{checkpoint.State.RunId}/{index}");

    /// <summary>The run loop: every unfinished partition at once, each retried on failure; then invalidate, record, finish.</summary>
    private async Task RunAsync()
    {
        // A long run must not be collected as idle between status polls.
        DelayDeactivation(TimeSpan.FromDays(1));
        var state = checkpoint.State;
        try
        {
            if (!state.GateChecked)
            {
                // Before any partition writes: a run the gate stops leaves the values already served in place.
                await CheckQualityGateAsync(state);
                state.GateChecked = true;
                await SaveCheckpointAsync();
            }
            var pending = state.PartitionRows.Select((rows, index) => (rows, index)).Where(p => p.rows < 0)
                .Select(p => RunPartitionAsync(p.index, state.PartitionRows.Length)).ToList();
            await Task.WhenAll(pending);
            await InvalidateSilosAsync();
            var features = (await registry.GetAsync(Project)).FeatureViews.FirstOrDefault(v => v.Name == View)?.Features.Count ?? 0;
            await GrainFactory.GetGrain<IRegistryGrain>(Project).RecordMaterializationIntervalAsync(View, state.Start, state.End);
            state.State = MaterializationRunState.Succeeded;
            state.FinishedAt = time.GetUtcNow();
            var rows = state.PartitionRows.Sum();
            GranaryMetrics.RecordMaterializationSucceeded(View, state.End, state.FinishedAt.Value, rows, rows * features);
        }
        catch (Exception e)
        {
            state.State = MaterializationRunState.Failed;
            GranaryMetrics.RecordMaterializationFailed(View);
            state.Error = e is GranaryException ? e.Message : $"{e.Message} ({e.GetType().Name})";
            LogRunFailed(logger, Key, e);
        }
        state.FinishedAt ??= time.GetUtcNow();
        await SaveCheckpointAsync();
        DelayDeactivation(TimeSpan.Zero);
    }

    private async Task RunPartitionAsync(int index, int count)
    {
        var state = checkpoint.State;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var rows = await Partition(index).RunAsync(Project, View, state.Start, state.End, index, count);
                state.PartitionRows[index] = rows;
                await SaveCheckpointAsync();
                return;
            }
            catch (Exception e) when ((e is not GranaryException || e is OnlineStoreUnavailableException) && attempt < options.Value.PartitionAttempts)
            {
                // A silo died or the online store hiccuped: newest-wins makes rewriting the partition's rows harmless.
                LogPartitionRetry(logger, Key, index, attempt, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt)));
            }
        }
    }

    /// <summary>Writes the checkpoint, one write at a time.</summary>
    private async Task SaveCheckpointAsync()
    {
        await _saving.WaitAsync();
        try { await checkpoint.WriteStateAsync(); }
        finally { _saving.Release(); }
    }

    private async Task InvalidateSilosAsync()
    {
        var silos = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        await Task.WhenAll(silos.Keys.Select(silo =>
            GrainFactory.GetGrain<ISiloOnlineCacheGrain>(silo.ToParsableString()).InvalidateAsync(Project, [View])));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Materialization {Key} resumes: {Done} of {Total} partitions were finished")]
    private static partial void LogResuming(ILogger logger, string key, int done, int total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Materialization {Key}: partition {Partition} failed (attempt {Attempt}); retrying: {Reason}")]
    private static partial void LogPartitionRetry(ILogger logger, string key, int partition, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Materialization {Key} failed")]
    private static partial void LogRunFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled materialization {Key} not started: {Reason}")]
    private static partial void LogScheduledRunRefused(ILogger logger, string key, string reason);
}
