using Granary.Definitions;
using Granary.Offline;

namespace Granary.Grains.Historical;

/// <summary>
/// One training-data job (key = job id): a point-in-time join of an entity dataframe against feature views, run inside the
/// offline engine and streamed to a Parquet or CSV file. <see cref="Start"/> returns at once; callers poll <see cref="GetStatus"/>.
/// </summary>
[Alias("granary.historical-query")]
public interface IHistoricalQueryGrain : IGrainWithStringKey
{
    /// <summary>Validates the request against the registry and starts the job; bad features or services fail this call. Starting a started job returns its status.</summary>
    [Alias("start")]
    Task<HistoricalJobStatus> Start(HistoricalJobRequest job);

    /// <summary>The job's state, phase, progress and row counts.</summary>
    [Alias("status")]
    Task<HistoricalJobStatus> GetStatus();

    /// <summary>Stops a running job; its status becomes <see cref="HistoricalJobState.Cancelled"/>.</summary>
    [Alias("cancel")]
    Task<HistoricalJobStatus> Cancel();

    /// <summary>
    /// The finished job's result rows (Parquet output), read on the silo that wrote them and sent <paramref name="chunkRows"/>
    /// rows at a time: a caller never opens the result file, so it need not see the silo's disk.
    /// </summary>
    [Alias("read-rows")]
    IAsyncEnumerable<HistoricalResultRows> ReadRows(int chunkRows);

    /// <summary>Deletes the job's output file (a temporary result the caller only streamed); cancels the job first if it still runs.</summary>
    [Alias("delete-output")]
    Task DeleteOutput();
}

/// <summary>Consecutive rows of a historical result, column-major, each value as the offline engine typed it (null for NULL).</summary>
[GenerateSerializer, Immutable, Alias("granary.HistoricalResultRows")]
public sealed record HistoricalResultRows
{
    /// <summary>The result's column names, in file order.</summary>
    [Id(0)] public IReadOnlyList<string> ColumnNames { get; init; } = [];
    /// <summary>The 0-based index of the first row.</summary>
    [Id(1)] public long FirstRow { get; init; }
    /// <summary>One array per column, one value per row.</summary>
    [Id(2)] public object?[][] Columns { get; init; } = [];
}

/// <summary>What a historical job retrieves: entities (file or inline), features (references or a service), and the output file.</summary>
[GenerateSerializer, Immutable, Alias("granary.HistoricalJobRequest")]
public sealed record HistoricalJobRequest
{
    /// <summary>The project whose registry defines the features.</summary>
    [Id(0)] public string Project { get; init; } = "";
    /// <summary>A Parquet or CSV entity dataframe file (as seen by the silo); null when <see cref="InlineEntities"/> is given.</summary>
    [Id(1)] public string? EntitiesPath { get; init; }
    /// <summary>Entity rows given inline, column by column.</summary>
    [Id(2)] public IReadOnlyList<InlineEntityColumn>? InlineEntities { get; init; }
    /// <summary>Feature references <c>view:feature</c>; empty when <see cref="FeatureService"/> is given.</summary>
    [Id(3)] public IReadOnlyList<string> Features { get; init; } = [];
    /// <summary>A feature service name, instead of <see cref="Features"/>.</summary>
    [Id(4)] public string? FeatureService { get; init; }
    /// <summary>Name output columns <c>view__feature</c>.</summary>
    [Id(5)] public bool FullFeatureNames { get; init; }
    /// <summary>The output file (as seen by the silo); <c>.csv</c> writes CSV, otherwise Parquet.</summary>
    [Id(6)] public string OutputPath { get; init; } = "";
    /// <summary>
    /// Whether the paths came from a request (the gateway sets it): then <see cref="EntitiesPath"/> and <see cref="OutputPath"/>
    /// must lie inside the silo's request-files folder, and an empty <see cref="OutputPath"/> means a temporary file the silo picks.
    /// </summary>
    [Id(7)] public bool FromRequest { get; init; }
}

/// <summary>Where a historical job is.</summary>
[GenerateSerializer, Alias("granary.HistoricalJobState")]
public enum HistoricalJobState
{
    /// <summary>Never started.</summary>
    NotStarted,
    /// <summary>Running.</summary>
    Running,
    /// <summary>Finished; the output file is complete.</summary>
    Succeeded,
    /// <summary>Stopped by an error (see <see cref="HistoricalJobStatus.Error"/>).</summary>
    Failed,
    /// <summary>Stopped by <see cref="IHistoricalQueryGrain.Cancel"/>.</summary>
    Cancelled,
}

/// <summary>A historical job's status as polled by callers.</summary>
[GenerateSerializer, Immutable, Alias("granary.HistoricalJobStatus")]
public sealed record HistoricalJobStatus
{
    /// <summary>The job id.</summary>
    [Id(0)] public string JobId { get; init; } = "";
    /// <summary>The state.</summary>
    [Id(1)] public HistoricalJobState State { get; init; }
    /// <summary>The current phase while running (loading entities, joining, on-demand transforms, writing, done).</summary>
    [Id(2)] public string Phase { get; init; } = "";
    /// <summary>Progress of the current phase in percent, as estimated by the engine.</summary>
    [Id(3)] public double Percent { get; init; }
    /// <summary>Rows in the entity dataframe (known once loaded).</summary>
    [Id(4)] public long EntityRows { get; init; }
    /// <summary>Rows written to the output (known at the end).</summary>
    [Id(5)] public long OutputRows { get; init; }
    /// <summary>The output columns in order (known at the end).</summary>
    [Id(6)] public IReadOnlyList<string> Columns { get; init; } = [];
    /// <summary>The output file's full path.</summary>
    [Id(7)] public string OutputPath { get; init; } = "";
    /// <summary>Why the job failed, when it did (the message of <see cref="Failure"/>).</summary>
    [Id(8)] public string? Error { get; init; }
    /// <summary>When the job started.</summary>
    [Id(9)] public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job ended.</summary>
    [Id(10)] public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The error the job failed with, its kind and hint included, so callers answer it as the same error from a direct call would be.</summary>
    [Id(11)] public JobError? Failure { get; init; }

    /// <summary>Whether the job has ended (succeeded, failed or cancelled).</summary>
    public bool IsFinished => State is HistoricalJobState.Succeeded or HistoricalJobState.Failed or HistoricalJobState.Cancelled;
}
