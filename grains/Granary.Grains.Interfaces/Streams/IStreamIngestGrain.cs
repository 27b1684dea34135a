namespace Granary.Grains.Streams;

/// <summary>
/// The hosted ingest worker of one push source that names a stream (key <c>&lt;project&gt;/&lt;push source&gt;</c>). Orleans
/// keeps one activation in the cluster, so one silo owns the stream at a time; when that silo dies, the next
/// <see cref="EnsureRunningAsync"/> from any silo activates it on a live one, which claims the dead owner's pending events.
/// </summary>
[Alias("granary.stream-ingest")]
public interface IStreamIngestGrain : IGrainWithStringKey
{
    /// <summary>Starts the worker when it is not running (again after a failure), and answers where it runs and how far it got.</summary>
    [Alias("ensure-running")]
    Task<StreamIngestStatus> EnsureRunningAsync();
}

/// <summary>A hosted ingest worker's state.</summary>
/// <param name="Silo">The silo it runs on.</param>
/// <param name="Read">Events read since this activation started.</param>
/// <param name="Pushed">Events stored by acknowledged pushes.</param>
/// <param name="Duplicates">Events the push path dropped as already stored.</param>
/// <param name="DeadLettered">Events set aside in the dead-letter stream.</param>
/// <param name="Claimed">Events claimed from stopped workers.</param>
/// <param name="LastError">Why the worker last stopped, if it did (it is restarted by the next call).</param>
[GenerateSerializer, Immutable, Alias("granary.StreamIngestStatus")]
public sealed record StreamIngestStatus(
    [property: Id(0)] string Silo,
    [property: Id(1)] long Read,
    [property: Id(2)] long Pushed,
    [property: Id(3)] long Duplicates,
    [property: Id(4)] long DeadLettered,
    [property: Id(5)] long Claimed,
    [property: Id(6)] string? LastError);
