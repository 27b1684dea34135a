using Granary.Definitions;
using Granary.Push;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Streams;

/// <summary>One event as a push row: column -> text value (the push path parses text as the declared types), its id and event time.</summary>
/// <param name="Event">The event.</param>
/// <param name="Values">Column name (after the stream's field mapping) -> value as written.</param>
/// <param name="EventTime">The event's time, for end-to-end latency.</param>
public sealed record MappedEvent(StreamEvent Event, IReadOnlyDictionary<string, string> Values, DateTimeOffset EventTime);

/// <summary>
/// Turns stream events into push rows by the stream definition: renames fields by its field mapping, moves the event id
/// field to the push's event id column, and checks what the push path cannot (the id and event time present, the time a
/// timestamp, no field twice). Types are left to the push path's validator, the one place that judges them.
/// </summary>
public sealed class StreamEventMapper(StreamDefinition stream, string eventIdColumn)
{
    private static readonly ValueType Timestamp = new(ScalarType.UnixTimestamp);

    /// <summary>The mapped row, or the reason the event cannot be one (naming the field and value).</summary>
    public (MappedEvent? Mapped, string? Problem) Map(StreamEvent e)
    {
        var values = new Dictionary<string, string>(e.Fields.Count, StringComparer.Ordinal);
        string? id = null, time = null;
        foreach (var (field, value) in e.Fields)
        {
            if (field == stream.EventIdField) id = value;
            if (field == stream.EventTimeField) time = value;
            var column = field == stream.EventIdField ? eventIdColumn : stream.FieldMapping.GetValueOrDefault(field, field);
            if (!values.TryAdd(column, value))
                return (null, $"field '{field}' gives column '{column}' a second value; each column may appear once per event");
        }
        if (string.IsNullOrEmpty(id)) return (null, $"the event id field '{stream.EventIdField}' is missing or empty; every event needs a unique id");
        if (time is null) return (null, $"the event time field '{stream.EventTimeField}' is missing");
        if (!PushValues.TryConvert(time, Timestamp, out var parsed, out var problem))
            return (null, $"the event time field '{stream.EventTimeField}': value '{Shorten(time)}' {problem}");
        return (new MappedEvent(e, values, (DateTimeOffset)parsed!), null);
    }

    /// <summary>Push columns and rows of <paramref name="events"/>: the union of their columns in first-seen order, null where an event has none.</summary>
    public static (string[] Columns, object?[][] Rows) Rows(IReadOnlyList<MappedEvent> events)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var columns = new List<string>();
        foreach (var e in events)
            foreach (var column in e.Values.Keys)
                if (index.TryAdd(column, columns.Count)) columns.Add(column);
        var rows = new object?[events.Count][];
        for (var r = 0; r < events.Count; r++)
        {
            var row = rows[r] = new object?[columns.Count];
            foreach (var (column, value) in events[r].Values) row[index[column]] = value;
        }
        return ([.. columns], rows);
    }

    /// <summary>A value as quoted in a reason: at most 100 characters.</summary>
    public static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "...";
}
