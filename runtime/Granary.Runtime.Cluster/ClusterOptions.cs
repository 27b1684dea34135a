namespace Granary.Runtime.Cluster;

/// <summary>
/// Membership, transport and reminder timings of a cluster. Defaults are Orleans' (ClusterMembershipOptions,
/// MessagingOptions, ReminderOptions); tests shorten them. <see cref="Validate"/> runs at silo start.
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>Default <see cref="ProbeTimeout"/>: 5 s (Orleans 9.x fixed probe period and timeout).</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(5);
    /// <summary>Default <see cref="NumMissedProbesLimit"/>: 3.</summary>
    public const int DefaultNumMissedProbesLimit = 3;
    /// <summary>Default <see cref="NumProbedSilos"/>: 10.</summary>
    public const int DefaultNumProbedSilos = 10;
    /// <summary>Default <see cref="NumVotesForDeathDeclaration"/>: 2.</summary>
    public const int DefaultNumVotesForDeathDeclaration = 2;
    /// <summary>Default <see cref="DeathVoteExpirationTimeout"/>: 2 min.</summary>
    public static readonly TimeSpan DefaultDeathVoteExpirationTimeout = TimeSpan.FromMinutes(2);
    /// <summary>Default <see cref="IAmAliveTablePublishTimeout"/>: 30 s.</summary>
    public static readonly TimeSpan DefaultIAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
    /// <summary>Default <see cref="NumMissedTableIAmAliveLimit"/>: 3.</summary>
    public const int DefaultNumMissedTableIAmAliveLimit = 3;
    /// <summary>Default <see cref="TableRefreshTimeout"/>: 60 s.</summary>
    public static readonly TimeSpan DefaultTableRefreshTimeout = TimeSpan.FromSeconds(60);
    /// <summary>Default <see cref="DefunctSiloExpiration"/>: 7 days.</summary>
    public static readonly TimeSpan DefaultDefunctSiloExpiration = TimeSpan.FromDays(7);
    /// <summary>Default <see cref="ConnectTimeout"/>: 5 s.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);
    /// <summary>Default <see cref="MinimumReminderPeriod"/>: 1 min.</summary>
    public static readonly TimeSpan DefaultMinimumReminderPeriod = TimeSpan.FromMinutes(1);
    /// <summary>Default <see cref="ReminderRefreshPeriod"/>: 5 min.</summary>
    public static readonly TimeSpan DefaultReminderRefreshPeriod = TimeSpan.FromMinutes(5);
    /// <summary>Default <see cref="MaxJoinAttemptTime"/>: 5 min.</summary>
    public static readonly TimeSpan DefaultMaxJoinAttemptTime = TimeSpan.FromMinutes(5);
    /// <summary>Default <see cref="VirtualNodesPerSilo"/>: 30.</summary>
    public const int DefaultVirtualNodesPerSilo = 30;

    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Granary:Cluster";
    /// <summary>Default <see cref="SiloPort"/>: 11111 (Orleans' silo port).</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>Name of the cluster: silos and clients of different clusters refuse each other's connections.</summary>
    public string ClusterId { get; set; } = "granary";

    /// <summary>The IP address this silo listens on and advertises (an address, not a host name).</summary>
    public string SiloHost { get; set; } = "127.0.0.1";
    /// <summary>The TCP port for silo-to-silo and client-to-silo traffic; 0 picks a free port (tests).</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;
    /// <summary>A readable name for this silo in the membership table; defaults to host:port.</summary>
    public string? SiloName { get; set; }

    /// <summary>How often each silo pings each of its probed peers, and how long it waits for the reply.</summary>
    public TimeSpan ProbeTimeout { get; set; } = DefaultProbeTimeout;
    /// <summary>Consecutive missed probes after which the prober votes the peer suspect.</summary>
    public int NumMissedProbesLimit { get; set; } = DefaultNumMissedProbesLimit;
    /// <summary>How many peers each silo probes (its successors on the ring of silos).</summary>
    public int NumProbedSilos { get; set; } = DefaultNumProbedSilos;
    /// <summary>Fresh votes needed to declare a silo dead: min(this, ceil(active silos / 2)).</summary>
    public int NumVotesForDeathDeclaration { get; set; } = DefaultNumVotesForDeathDeclaration;
    /// <summary>How long a suspicion vote counts.</summary>
    public TimeSpan DeathVoteExpirationTimeout { get; set; } = DefaultDeathVoteExpirationTimeout;
    /// <summary>How often a silo writes its IAmAlive time to the table.</summary>
    public TimeSpan IAmAliveTablePublishTimeout { get; set; } = DefaultIAmAliveTablePublishTimeout;
    /// <summary>After this many missed IAmAlive writes a row counts as stale (not counted as an active voter).</summary>
    public int NumMissedTableIAmAliveLimit { get; set; } = DefaultNumMissedTableIAmAliveLimit;
    /// <summary>How often a silo re-reads the whole table (changes are also gossiped at once).</summary>
    public TimeSpan TableRefreshTimeout { get; set; } = DefaultTableRefreshTimeout;
    /// <summary>Dead rows whose IAmAlive is older than this are deleted.</summary>
    public TimeSpan DefunctSiloExpiration { get; set; } = DefaultDefunctSiloExpiration;

    /// <summary>How long a joining silo keeps retrying to reach every active, non-stale silo before it gives up (its row becomes Dead and start-up fails).</summary>
    public TimeSpan MaxJoinAttemptTime { get; set; } = DefaultMaxJoinAttemptTime;

    /// <summary>How long opening a TCP connection to a silo may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    /// <summary>Hash-ring points per active silo; more points spread grains more evenly.</summary>
    public int VirtualNodesPerSilo { get; set; } = DefaultVirtualNodesPerSilo;

    /// <summary>Shortest reminder period accepted by RegisterOrUpdateReminder.</summary>
    public TimeSpan MinimumReminderPeriod { get; set; } = DefaultMinimumReminderPeriod;
    /// <summary>How often a silo re-reads the reminder table (also done at once on membership changes).</summary>
    public TimeSpan ReminderRefreshPeriod { get; set; } = DefaultReminderRefreshPeriod;

    /// <summary>Throws with the offending option's name and value when an option is out of range.</summary>
    public void Validate()
    {
        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero) throw new InvalidOperationException($"ClusterOptions.{name} must be positive; it is {value}.");
        }
        if (string.IsNullOrWhiteSpace(ClusterId)) throw new InvalidOperationException("ClusterOptions.ClusterId must be set, e.g. \"granary\".");
        if (!System.Net.IPAddress.TryParse(SiloHost, out _)) throw new InvalidOperationException($"ClusterOptions.SiloHost must be an IP address such as 127.0.0.1; it is '{SiloHost}'.");
        if (SiloPort is < 0 or > 65535) throw new InvalidOperationException($"ClusterOptions.SiloPort must be in 0..65535; it is {SiloPort}.");
        Positive(ProbeTimeout, nameof(ProbeTimeout));
        Positive(DeathVoteExpirationTimeout, nameof(DeathVoteExpirationTimeout));
        Positive(IAmAliveTablePublishTimeout, nameof(IAmAliveTablePublishTimeout));
        Positive(TableRefreshTimeout, nameof(TableRefreshTimeout));
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(MaxJoinAttemptTime, nameof(MaxJoinAttemptTime));
        Positive(MinimumReminderPeriod, nameof(MinimumReminderPeriod));
        Positive(ReminderRefreshPeriod, nameof(ReminderRefreshPeriod));
        if (NumMissedProbesLimit < 1) throw new InvalidOperationException($"ClusterOptions.NumMissedProbesLimit must be at least 1; it is {NumMissedProbesLimit}.");
        if (NumProbedSilos < 1) throw new InvalidOperationException($"ClusterOptions.NumProbedSilos must be at least 1; it is {NumProbedSilos}.");
        if (NumVotesForDeathDeclaration < 1) throw new InvalidOperationException($"ClusterOptions.NumVotesForDeathDeclaration must be at least 1; it is {NumVotesForDeathDeclaration}.");
        if (NumMissedTableIAmAliveLimit < 1) throw new InvalidOperationException($"ClusterOptions.NumMissedTableIAmAliveLimit must be at least 1; it is {NumMissedTableIAmAliveLimit}.");
        if (VirtualNodesPerSilo < 1) throw new InvalidOperationException($"ClusterOptions.VirtualNodesPerSilo must be at least 1; it is {VirtualNodesPerSilo}.");
    }
}
