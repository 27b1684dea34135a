using System.Globalization;
using Granary.Definitions;
using Granary.Streams;
using StackExchange.Redis;

namespace Granary.Online.Redis;

/// <summary>
/// A Redis stream read through a consumer group: XREADGROUP for new events, XAUTOCLAIM for events a stopped worker read and
/// never acknowledged, XACK, XADD to the dead-letter stream, XINFO GROUPS for lag. Redis keeps the group's position and
/// pending list, so any number of workers (processes, silos) share one stream and each event goes to one at a time.
/// </summary>
public sealed class RedisStreamSource : IStreamSource
{
    /// <summary>Dead-letter entry fields: the event's position, the reason, when; the event's own fields follow, prefixed.</summary>
    private const string PositionField = "position", ReasonField = "reason", AtField = "at", EventFieldPrefix = "event.";

    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;
    private readonly StreamDefinition _stream;
    private readonly RedisValue _consumer;

    /// <summary>Reads <paramref name="stream"/> as <paramref name="consumer"/> over an existing connection (kept open on dispose).</summary>
    public RedisStreamSource(IConnectionMultiplexer redis, StreamDefinition stream, string consumer)
        : this(redis, stream, consumer, ownsConnection: false) { }

    private RedisStreamSource(IConnectionMultiplexer redis, StreamDefinition stream, string consumer, bool ownsConnection)
    {
        _redis = redis;
        _stream = stream;
        _consumer = consumer;
        _ownsConnection = ownsConnection;
    }

    /// <summary>Connects to <paramref name="configuration"/> (a StackExchange.Redis configuration string) and reads <paramref name="stream"/> as <paramref name="consumer"/>.</summary>
    public static async Task<RedisStreamSource> ConnectAsync(string configuration, StreamDefinition stream, string consumer)
    {
        ConfigurationOptions config;
        try { config = ConfigurationOptions.Parse(configuration); }
        catch (ArgumentException e)
        {
            throw new StreamDefinitionException($"the connection of stream '{stream.Key}' is not a valid Redis configuration: {e.Message}",
                "write host:port, e.g. 127.0.0.1:6379, or leave 'connection' out to use the online store's");
        }
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        var redis = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        return new RedisStreamSource(redis, stream, consumer, ownsConnection: true);
    }

    private IDatabase Db => _redis.GetDatabase();

    /// <inheritdoc/>
    public string Name => $"redis stream '{_stream.Key}' (group '{_stream.Group}')";

    /// <inheritdoc/>
    public Task EnsureGroupAsync(CancellationToken cancellationToken) => RunStepAsync(CreateGroupAsync);

    private async Task CreateGroupAsync()
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(_stream.Key, _stream.Group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: its position and pending list are kept.
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<StreamEvent>> ReadAsync(int max, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        StreamEntry[] entries;
        try
        {
            entries = await Db.StreamReadGroupAsync(_stream.Key, _stream.Group, _consumer, StreamPosition.NewMessages, max).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // The stream or group was deleted since start-up: recreate and read from its start.
            await CreateGroupAsync().ConfigureAwait(false);
            entries = await Db.StreamReadGroupAsync(_stream.Key, _stream.Group, _consumer, StreamPosition.NewMessages, max).ConfigureAwait(false);
        }
        return Events(entries);
    });

    /// <inheritdoc/>
    public Task<IReadOnlyList<StreamEvent>> ClaimStaleAsync(TimeSpan idle, int max, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var result = await Db.StreamAutoClaimAsync(_stream.Key, _stream.Group, _consumer, (long)idle.TotalMilliseconds, "0-0", max).ConfigureAwait(false);
        return result.IsNull ? [] : Events(result.ClaimedEntries);
    });

    /// <inheritdoc/>
    public Task AcknowledgeAsync(IReadOnlyList<string> positions, CancellationToken cancellationToken) => RunStepAsync(async () =>
    {
        if (positions.Count == 0) return;
        var ids = new RedisValue[positions.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = positions[i];
        await Db.StreamAcknowledgeAsync(_stream.Key, _stream.Group, ids).ConfigureAwait(false);
    });

    /// <inheritdoc/>
    public Task DeadLetterAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken) => RunStepAsync(async () =>
    {
        if (letters.Count == 0) return;
        // One transaction: the letters are added and the events acknowledged together, so an event is never in both or neither.
        var transaction = Db.CreateTransaction();
        var adds = new List<Task>(letters.Count + 1);
        foreach (var letter in letters)
        {
            var fields = new NameValueEntry[3 + letter.Fields.Count];
            fields[0] = new NameValueEntry(PositionField, letter.Position);
            fields[1] = new NameValueEntry(ReasonField, letter.Reason);
            fields[2] = new NameValueEntry(AtField, letter.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            for (var i = 0; i < letter.Fields.Count; i++)
                fields[3 + i] = new NameValueEntry(EventFieldPrefix + letter.Fields[i].Key, letter.Fields[i].Value);
            adds.Add(transaction.StreamAddAsync(_stream.DeadLetters, fields));
        }
        adds.Add(transaction.StreamAcknowledgeAsync(_stream.Key, _stream.Group, letters.Select(l => (RedisValue)l.Position).ToArray()));
        if (!await transaction.ExecuteAsync().ConfigureAwait(false))
            throw new StreamUnavailableException($"writing {letters.Count} dead letters to '{_stream.DeadLetters}' did not commit");
        await Task.WhenAll(adds).ConfigureAwait(false);
    });

    /// <inheritdoc/>
    public Task<IReadOnlyList<DeadLetter>> ReadDeadLettersAsync(int max, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var entries = await Db.StreamRangeAsync(_stream.DeadLetters, count: max, messageOrder: Order.Descending).ConfigureAwait(false);
        var letters = new List<DeadLetter>(entries.Length);
        foreach (var entry in entries)
        {
            string position = "", reason = "";
            var at = DateTimeOffset.MinValue;
            var fields = new List<KeyValuePair<string, string>>();
            foreach (var v in entry.Values)
            {
                var name = (string)v.Name!;
                var value = (string?)v.Value ?? "";
                if (name == PositionField) position = value;
                else if (name == ReasonField) reason = value;
                else if (name == AtField) DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at);
                else if (name.StartsWith(EventFieldPrefix, StringComparison.Ordinal)) fields.Add(new(name[EventFieldPrefix.Length..], value));
            }
            letters.Add(new DeadLetter(position, reason, fields, at));
        }
        return (IReadOnlyList<DeadLetter>)letters;
    });

    /// <inheritdoc/>
    public Task<StreamLag> LagAsync(CancellationToken cancellationToken) => RunAsync(async () =>
    {
        StreamGroupInfo[] groups;
        try
        {
            groups = await Db.StreamGroupInfoAsync(_stream.Key).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return new StreamLag(0, 0);
        }
        foreach (var g in groups)
        {
            if (g.Name != _stream.Group) continue;
            // Lag is unknown to Redis after entries were deleted from the middle of the stream; then count what follows the
            // group's last delivered id.
            var unread = g.Lag ?? (await Db.StreamRangeAsync(_stream.Key, "(" + g.LastDeliveredId, "+").ConfigureAwait(false)).LongLength;
            return new StreamLag(g.PendingMessageCount, unread);
        }
        return new StreamLag(0, await Db.StreamLengthAsync(_stream.Key).ConfigureAwait(false));
    });

    private static IReadOnlyList<StreamEvent> Events(StreamEntry[] entries)
    {
        var events = new List<StreamEvent>(entries.Length);
        foreach (var entry in entries)
        {
            if (entry.IsNull) continue;
            var fields = new KeyValuePair<string, string>[entry.Values.Length];
            for (var i = 0; i < fields.Length; i++) fields[i] = new((string)entry.Values[i].Name!, (string?)entry.Values[i].Value ?? "");
            events.Add(new StreamEvent((string)entry.Id!, fields));
        }
        return events;
    }

    private async Task<T> RunAsync<T>(Func<Task<T>> command)
    {
        try
        {
            return await command().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or ObjectDisposedException
                                      || (e is RedisServerException s && (s.Message.StartsWith("LOADING", StringComparison.Ordinal) || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal))))
        {
            throw new StreamUnavailableException($"{Name} is unreachable: {e.Message}");
        }
    }

    private Task RunStepAsync(Func<Task> command) => RunAsync(async () => { await command().ConfigureAwait(false); return true; });

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection) await _redis.DisposeAsync().ConfigureAwait(false);
    }
}
