using Granary.Grains.Push;
using Granary.Push;
using Granary.Streams;

namespace Granary.Grains.Streams;

/// <summary>
/// The ingest worker's push path in a silo or an Orleans client: <see cref="IPushGrain"/> of <c>&lt;project&gt;/&lt;push
/// source&gt;</c>. A batch refused by validation is a result (its reason dead-letters the bad events); a silo or store that
/// cannot be reached is retriable.
/// </summary>
public sealed class PushGrainStreamTarget(IGrainFactory grains, string project, string pushSource, PushMode to) : IStreamPushTarget
{
    private readonly IPushGrain _grain = grains.GetGrain<IPushGrain>($"{project}/{pushSource}");

    /// <inheritdoc/>
    public async Task<StreamPushResult> PushAsync(string[] columns, object?[][] rows, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _grain.PushAsync(new PushRequest(columns, rows, to)).WaitAsync(cancellationToken);
            return new StreamPushResult(result.RowsAccepted, result.DuplicatesDropped, null);
        }
        catch (PushValidationException e)
        {
            return new StreamPushResult(0, 0, e.Errors is { Count: > 0 } errors ? string.Join("; ", errors) : e.Message);
        }
        catch (Granary.Quality.DataRuleViolationException e)
        {
            // A reject data rule: the event is dead-lettered with the rule, the value and the row, and acknowledged.
            return new StreamPushResult(0, 0, e.Errors is { Count: > 0 } errors ? string.Join("; ", errors) : e.Message);
        }
        catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            throw new StreamUnavailableException($"the push to '{project}/{pushSource}' did not complete: {e.Message}");
        }
    }
}
