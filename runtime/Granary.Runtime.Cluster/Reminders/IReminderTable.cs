using System.Globalization;

namespace Granary.Runtime.Cluster.Reminders;

/// <summary>A durable reminder: grain <see cref="Grain"/> is sent <see cref="Name"/> at <see cref="StartAt"/> and every <see cref="Period"/> after.</summary>
public sealed record ReminderEntry(GrainId Grain, string Name, DateTimeOffset StartAt, TimeSpan Period, string ETag = "")
{
    /// <summary>The first tick at or after <paramref name="now"/>.</summary>
    public DateTimeOffset NextTickAtOrAfter(DateTimeOffset now)
    {
        if (now <= StartAt) return StartAt;
        var periods = (long)Math.Ceiling((now - StartAt).Ticks / (double)Period.Ticks);
        return StartAt + TimeSpan.FromTicks(Period.Ticks * periods);
    }
}

/// <summary>Storage of the cluster's reminders. Rows are keyed by grain and reminder name; removal is conditioned on the ETag.</summary>
public interface IReminderTable
{
    /// <summary>Creates the storage if absent.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);
    /// <summary>Every reminder of the cluster.</summary>
    Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default);
    /// <summary>The reminder <paramref name="name"/> of <paramref name="grain"/>, or null.</summary>
    Task<ReminderEntry?> ReadRowAsync(GrainId grain, string name, CancellationToken cancellationToken = default);
    /// <summary>Inserts or replaces a reminder; returns its new ETag.</summary>
    Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default);
    /// <summary>Deletes the reminder if its ETag is still <paramref name="etag"/>; false otherwise.</summary>
    Task<bool> RemoveRowAsync(GrainId grain, string name, string etag, CancellationToken cancellationToken = default);
}

/// <summary>A reminder table held in this process (tests, the in-process test cluster).</summary>
public sealed class InMemoryReminderTable : IReminderTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(GrainId, string), ReminderEntry> _rows = [];
    private long _etag;

    /// <inheritdoc/>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<ReminderEntry>>(_rows.Values.ToList());
    }

    /// <inheritdoc/>
    public Task<ReminderEntry?> ReadRowAsync(GrainId grain, string name, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_rows.GetValueOrDefault((grain, name)));
    }

    /// <inheritdoc/>
    public Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var etag = (++_etag).ToString(CultureInfo.InvariantCulture);
            _rows[(entry.Grain, entry.Name)] = entry with { ETag = etag };
            return Task.FromResult(etag);
        }
    }

    /// <inheritdoc/>
    public Task<bool> RemoveRowAsync(GrainId grain, string name, string etag, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_rows.TryGetValue((grain, name), out var row) || row.ETag != etag) return Task.FromResult(false);
            _rows.Remove((grain, name));
            return Task.FromResult(true);
        }
    }
}
