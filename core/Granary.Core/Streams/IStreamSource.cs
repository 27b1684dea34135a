using Granary.Definitions;

namespace Granary.Streams;

/// <summary>One event as read from a stream: its position (Redis entry id; for Kafka <c>partition:offset</c>) and its fields.</summary>
/// <param name="Position">Where the event is in the stream; what <see cref="IStreamSource.AcknowledgeAsync"/> takes.</param>
/// <param name="Fields">The event's fields as written, in order.</param>
public sealed record StreamEvent(string Position, IReadOnlyList<KeyValuePair<string, string>> Fields);

/// <summary>An event that could not be mapped or validated, as kept in the dead-letter stream.</summary>
/// <param name="Position">The event's position in its stream.</param>
/// <param name="Reason">Why it was set aside (the mapping or validation error, naming field and value).</param>
/// <param name="Fields">The event's fields as written.</param>
/// <param name="At">When it was set aside.</param>
public sealed record DeadLetter(string Position, string Reason, IReadOnlyList<KeyValuePair<string, string>> Fields, DateTimeOffset At);

/// <summary>How far the consumer group is behind.</summary>
/// <param name="Pending">Events read by a worker and not yet acknowledged.</param>
/// <param name="Unread">Events not yet read by any worker of the group.</param>
public sealed record StreamLag(long Pending, long Unread)
{
    /// <summary>Events not yet taken into effect.</summary>
    public long Total => Pending + Unread;
}

/// <summary>
/// A stream read through a consumer group, as the ingest worker uses it. Every method may throw
/// <see cref="StreamUnavailableException"/> when the stream's server cannot be reached; the worker retries then.
/// </summary>
/// <remarks>
/// Redis Streams (<c>stores/Granary.Online.Redis</c>) is the implementation built. A Kafka source fits the same contract:
/// <see cref="ReadAsync"/> is a consumer poll of the group's assigned partitions, <see cref="AcknowledgeAsync"/> commits
/// offsets (the highest contiguous acknowledged offset per partition), <see cref="ClaimStaleAsync"/> answers nothing (the
/// group rebalances a dead consumer's partitions, which are then re-read from the committed offset),
/// <see cref="DeadLetterAsync"/> produces to a dead-letter topic, and <see cref="LagAsync"/> is end offsets minus committed
/// offsets. It would register an <see cref="IStreamSourceProvider"/> of type <c>kafka</c>; none ships, since no broker runs
/// where Granary is tested.
/// </remarks>
public interface IStreamSource : IAsyncDisposable
{
    /// <summary>The stream as messages name it (type and key, never a password).</summary>
    string Name { get; }

    /// <summary>Creates the consumer group when missing (reading from the stream's start), and the stream with it.</summary>
    Task EnsureGroupAsync(CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> events never delivered to the group, handed to this worker; empty when none.</summary>
    Task<IReadOnlyList<StreamEvent>> ReadAsync(int max, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> events delivered to some worker and unacknowledged for at least <paramref name="idle"/>, now this worker's.</summary>
    Task<IReadOnlyList<StreamEvent>> ClaimStaleAsync(TimeSpan idle, int max, CancellationToken cancellationToken);

    /// <summary>Marks the events done for the group: never delivered again.</summary>
    Task AcknowledgeAsync(IReadOnlyList<string> positions, CancellationToken cancellationToken);

    /// <summary>Adds the events to the dead-letter stream, then acknowledges them.</summary>
    Task DeadLetterAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="max"/> dead letters, newest first.</summary>
    Task<IReadOnlyList<DeadLetter>> ReadDeadLettersAsync(int max, CancellationToken cancellationToken);

    /// <summary>The group's lag.</summary>
    Task<StreamLag> LagAsync(CancellationToken cancellationToken);
}

/// <summary>Opens stream sources of one <see cref="StreamDefinition.Type"/>; each engine registers one.</summary>
public interface IStreamSourceProvider
{
    /// <summary>The stream type it opens (<c>redis</c>).</summary>
    string Type { get; }

    /// <summary>
    /// Opens <paramref name="stream"/> for the worker <paramref name="consumer"/>; <paramref name="defaultConnection"/> (the
    /// online store's connection) is used when the definition names none.
    /// </summary>
    Task<IStreamSource> OpenAsync(StreamDefinition stream, string consumer, string? defaultConnection, CancellationToken cancellationToken);
}

/// <summary>A stream's server could not be reached or failed a command; retriable.</summary>
public sealed class StreamUnavailableException(string message, Exception? inner = null)
    : GranaryException(message, "check that the stream's server is running and reachable (the stream's connection, or the online store's)", inner)
{
    /// <summary>Always true: the worker retries once the server is back.</summary>
    public bool IsRetriable => true;
}

/// <summary>A stream definition the host cannot run (an engine not registered, a push source without a stream).</summary>
public sealed class StreamDefinitionException(string message, string? hint = null) : GranaryException(message, hint);

/// <summary>Picks the registered provider of a stream's type.</summary>
public static class StreamSources
{
    /// <summary>Opens <paramref name="stream"/> with the provider of its type; a type no engine registered is the user's to fix.</summary>
    public static Task<IStreamSource> OpenAsync(IEnumerable<IStreamSourceProvider> providers, StreamDefinition stream, string consumer,
        string? defaultConnection, CancellationToken cancellationToken)
    {
        var provider = providers.FirstOrDefault(p => p.Type == stream.Type)
            ?? throw new StreamDefinitionException($"no stream engine of type '{stream.Type}' is registered; known: {string.Join(", ", providers.Select(p => p.Type))}",
                "use type: redis, or register the engine in the host");
        return provider.OpenAsync(stream, consumer, defaultConnection, cancellationToken);
    }
}
