using System.Globalization;

namespace Granary.Runtime.Cluster.Membership;

/// <summary>A membership table held in this process: for a single process (tests, the in-process test cluster).</summary>
public sealed class InMemoryMembershipTable : IMembershipTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SiloAddress, (MembershipEntry Entry, int ETag)> _rows = [];
    private int _version;

    /// <inheritdoc/>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var rows = new List<MembershipRow>(_rows.Count);
            foreach (var (entry, etag) in _rows.Values)
            {
                rows.Add(new MembershipRow(entry, etag.ToString(CultureInfo.InvariantCulture)));
            }
            return Task.FromResult(new MembershipTableData(rows, CurrentVersion()));
        }
    }

    /// <inheritdoc/>
    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion next, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (next.Version != _version + 1 || _rows.ContainsKey(entry.Silo)) return Task.FromResult(false);
            _rows[entry.Silo] = (entry, 0);
            _version = next.Version;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion next, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (next.Version != _version + 1
                || !_rows.TryGetValue(entry.Silo, out var current)
                || current.ETag.ToString(CultureInfo.InvariantCulture) != etag)
            {
                return Task.FromResult(false);
            }
            _rows[entry.Silo] = (entry, current.ETag + 1);
            _version = next.Version;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_rows.TryGetValue(entry.Silo, out var current))
            {
                throw new InvalidOperationException($"Silo {entry.Silo} has no row in the membership table; it must insert its row before writing IAmAlive.");
            }
            _rows[entry.Silo] = (current.Entry with { IAmAliveTime = entry.IAmAliveTime }, current.ETag);
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc/>
    public Task<int> CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var defunct = _rows.Values.Where(r => r.Entry.Status == SiloStatus.Dead && r.Entry.IAmAliveTime < beforeDate)
                .Select(r => r.Entry.Silo).ToList();
            foreach (var silo in defunct) _rows.Remove(silo);
            return Task.FromResult(defunct.Count);
        }
    }

    private TableVersion CurrentVersion() => new(_version, _version.ToString(CultureInfo.InvariantCulture));
}
