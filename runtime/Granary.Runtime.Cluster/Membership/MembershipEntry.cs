namespace Granary.Runtime.Cluster.Membership;

/// <summary>A silo's life cycle as recorded in the membership table (Orleans' numbering). Dead is final.</summary>
public enum SiloStatus
{
    /// <summary>No status (never stored).</summary>
    None = 0,
    /// <summary>The silo object exists but has not joined.</summary>
    Created = 1,
    /// <summary>The silo inserted its row and is checking connectivity.</summary>
    Joining = 2,
    /// <summary>The silo serves grains and takes part in probing.</summary>
    Active = 3,
    /// <summary>The silo is stopping gracefully: it deactivates its grains and then leaves.</summary>
    ShuttingDown = 4,
    /// <summary>The silo is stopping without the graceful stages.</summary>
    Stopping = 5,
    /// <summary>The silo is gone, by its own leave or by its peers' votes. Final.</summary>
    Dead = 6,
}

/// <summary>A suspicion vote: <see cref="Voter"/> found the target unresponsive at <see cref="At"/>.</summary>
public readonly record struct SuspectVote(SiloAddress Voter, DateTimeOffset At);

/// <summary>One row of the membership table: a silo, its status, the votes against it and its liveness stamp.</summary>
public sealed record MembershipEntry
{
    /// <summary>The silo this row describes (primary key).</summary>
    public required SiloAddress Silo { get; init; }
    /// <summary>A human-readable silo name (for logs and dashboards).</summary>
    public required string SiloName { get; init; }
    /// <summary>The machine the silo runs on.</summary>
    public string HostName { get; init; } = Environment.MachineName;
    /// <summary>The silo's status.</summary>
    public SiloStatus Status { get; init; }
    /// <summary>Suspicion votes against this silo, oldest first.</summary>
    public IReadOnlyList<SuspectVote> SuspectTimes { get; init; } = [];
    /// <summary>When the silo started.</summary>
    public DateTimeOffset StartTime { get; init; }
    /// <summary>The last time the silo wrote that it is alive (diagnostics; not the failure detector).</summary>
    public DateTimeOffset IAmAliveTime { get; init; }

    /// <summary>The serialized form of <see cref="SuspectTimes"/>: <c>silo,unixMs|silo,unixMs</c>.</summary>
    public string FormatSuspectTimes() =>
        string.Join('|', SuspectTimes.Select(v => FormattableString.Invariant($"{v.Voter},{v.At.ToUnixTimeMilliseconds()}")));

    /// <summary>Parses the form written by <see cref="FormatSuspectTimes"/>.</summary>
    public static IReadOnlyList<SuspectVote> ParseSuspectTimes(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var votes = new List<SuspectVote>();
        foreach (var part in text.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = part.LastIndexOf(',');
            if (comma < 0) throw new FormatException($"Suspect vote '{part}' has no ',' between the voter and the time.");
            var at = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(part.AsSpan(comma + 1), System.Globalization.CultureInfo.InvariantCulture));
            votes.Add(new SuspectVote(SiloAddress.Parse(part[..comma]), at));
        }
        return votes;
    }
}

/// <summary>The membership table's version: every row insert or update bumps it, conditioned on the previous value.</summary>
public readonly record struct TableVersion(int Version, string ETag)
{
    /// <summary>The version a writer must propose after reading this one.</summary>
    public TableVersion Next() => new(Version + 1, ETag);
}

/// <summary>A row as read: the entry plus its ETag for compare-and-set.</summary>
public readonly record struct MembershipRow(MembershipEntry Entry, string ETag);

/// <summary>A snapshot of the whole table: every row plus the table version.</summary>
public sealed record MembershipTableData(IReadOnlyList<MembershipRow> Rows, TableVersion Version)
{
    /// <summary>The row of <paramref name="silo"/>, if present.</summary>
    public MembershipRow? Find(SiloAddress silo)
    {
        foreach (var row in Rows)
        {
            if (row.Entry.Silo == silo) return row;
        }
        return null;
    }
}
