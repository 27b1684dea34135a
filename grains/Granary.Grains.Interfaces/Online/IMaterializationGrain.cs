using Orleans.Concurrency;

namespace Granary.Grains.Online;

/// <summary>
/// Materialization of one feature view (key = <c>&lt;project&gt;/&lt;view&gt;</c>): the latest row per entity within a window,
/// read from the offline store in entity-hash partitions spread over the silos and written to the online store in
/// pipelined batches. The run's checkpoint (finished partitions) is grain state, so a run whose silo dies resumes where it
/// stopped. <see cref="StartAsync"/> returns at once; callers poll <see cref="GetStatusAsync"/>.
/// </summary>
[Alias("granary.materialization")]
public interface IMaterializationGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>
    /// Starts materializing [start, end] (inclusive). Starting the window that is already running returns its status; a
    /// different window while one runs is refused. With <paramref name="incremental"/>, start is taken from the registry:
    /// the end of the last recorded interval, else now - ttl (52 weeks when the view has no ttl).
    /// </summary>
    [Alias("start")]
    Task<MaterializationStatus> StartAsync(DateTimeOffset start, DateTimeOffset end, bool incremental);

    /// <summary>The current or last run's state and progress.</summary>
    [AlwaysInterleave, Alias("status")]
    Task<MaterializationStatus> GetStatusAsync();

    /// <summary>
    /// Runs this view every <paramref name="every"/> over [now - <paramref name="lookback"/>, now] through an Orleans reminder;
    /// null <paramref name="every"/> removes the schedule.
    /// </summary>
    [Alias("schedule")]
    Task ScheduleAsync(TimeSpan? every, TimeSpan lookback);
}

/// <summary>One partition of a run: reads its share of entity keys and writes them online.</summary>
[Alias("granary.materialization-partition")]
public interface IMaterializationPartitionGrain : IGrainWithStringKey
{
    /// <summary>Materializes partition <paramref name="index"/> of <paramref name="count"/> of the view for [start, end]; returns rows written.</summary>
    [Alias("run"), ResponseTimeout("02:00:00")]
    Task<long> RunAsync(string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count);

    /// <summary>
    /// The quality-gate pass of partition <paramref name="index"/>: reads the rows a run would write and counts what the
    /// view's data rules do to them, writing nothing.
    /// </summary>
    [Alias("check"), ResponseTimeout("02:00:00")]
    Task<DataRuleCounts> CheckAsync(string project, string view, DateTimeOffset start, DateTimeOffset end, int index, int count);

    /// <summary>Rows read so far by the running partition.</summary>
    [AlwaysInterleave, Alias("progress")]
    Task<long> GetProgressAsync();
}

/// <summary>Where a materialization run is.</summary>
[GenerateSerializer, Alias("granary.MaterializationState")]
public enum MaterializationRunState
{
    /// <summary>Never run.</summary>
    Idle,
    /// <summary>Running (or resuming after a silo failure).</summary>
    Running,
    /// <summary>Finished; every partition is online and the interval is recorded.</summary>
    Succeeded,
    /// <summary>Stopped by an error (see <see cref="MaterializationStatus.Error"/>).</summary>
    Failed,
}

/// <summary>A run's status, as polled.</summary>
[GenerateSerializer, Immutable, Alias("granary.MaterializationStatus")]
public sealed record MaterializationStatus
{
    /// <summary>The view.</summary>
    [Id(0)] public string View { get; init; } = "";
    /// <summary>The state.</summary>
    [Id(1)] public MaterializationRunState State { get; init; }
    /// <summary>The window's start (inclusive).</summary>
    [Id(2)] public DateTimeOffset Start { get; init; }
    /// <summary>The window's end (inclusive).</summary>
    [Id(3)] public DateTimeOffset End { get; init; }
    /// <summary>How many partitions the run has.</summary>
    [Id(4)] public int Partitions { get; init; }
    /// <summary>How many are finished.</summary>
    [Id(5)] public int PartitionsDone { get; init; }
    /// <summary>Rows written online so far (finished partitions, plus the progress of running ones when known).</summary>
    [Id(6)] public long RowsWritten { get; init; }
    /// <summary>Why it failed.</summary>
    [Id(7)] public string? Error { get; init; }
    /// <summary>When the run started.</summary>
    [Id(8)] public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When it ended.</summary>
    [Id(9)] public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>How many times the run was resumed after its silo stopped.</summary>
    [Id(10)] public int Resumes { get; init; }

    /// <summary>The last quality-gate check of the view's materialization (this run's, or an earlier run's when this one had none to make).</summary>
    [Id(11)] public Granary.Quality.QualityGateResult? QualityGate { get; init; }

    /// <summary>Whether the run has ended.</summary>
    public bool IsFinished => State is MaterializationRunState.Succeeded or MaterializationRunState.Failed;
}

/// <summary>What a view's data rules did to one partition's rows (see <see cref="Granary.Quality.DataRuleTally"/>).</summary>
[GenerateSerializer, Immutable, Alias("granary.DataRuleCounts")]
public sealed record DataRuleCounts(
    [property: Id(0)] long Rows, [property: Id(1)] long Rejected, [property: Id(2)] long Quarantined, [property: Id(3)] long Warned,
    [property: Id(4)] long[] Breaks, [property: Id(5)] long[] NonNull)
{
    /// <summary>The counts of <paramref name="tally"/>.</summary>
    public static DataRuleCounts From(Granary.Quality.DataRuleTally tally)
        => new(tally.Rows, tally.Rejected, tally.Quarantined, tally.Warned, tally.Breaks, tally.NonNull);

    /// <summary>The counts as a tally.</summary>
    public Granary.Quality.DataRuleTally ToTally() => new(Rows, Rejected, Quarantined, Warned, [.. Breaks], [.. NonNull]);
}

/// <summary>A materialization request that cannot run (unknown view, bad window, a run already going).</summary>
public sealed class MaterializationException(string message, string? hint = null) : GranaryException(message, hint);
