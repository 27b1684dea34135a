using Microsoft.Extensions.Options;

namespace Granary.Silo;

/// <summary>
/// Membership timings of a Granary silo, bound from the configuration section <c>Granary:Cluster</c>. The defaults
/// make a silo that dies without warning (SIGKILL, power loss) be declared dead, and its grains answer again on
/// the survivors, in about 2-5 s; Orleans' own defaults take 10-16 s and more.
/// </summary>
public sealed class ClusterTimingOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Granary:Cluster";

    /// <summary>Default of <see cref="ProbeTimeout"/>: 1 s.</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long a silo waits for a probe (ping) answer from a peer before it counts a missed probe. Default 1 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = DefaultProbeTimeout;

    /// <summary>Default of <see cref="NumMissedProbesLimit"/>: 2.</summary>
    public const int DefaultNumMissedProbesLimit = 2;

    /// <summary>Missed probes in a row after which a silo votes its peer dead. Default 2.</summary>
    public int NumMissedProbesLimit { get; set; } = DefaultNumMissedProbesLimit;

    /// <summary>Default of <see cref="NumVotesForDeathDeclaration"/>: 2.</summary>
    public const int DefaultNumVotesForDeathDeclaration = 2;

    /// <summary>
    /// Votes needed to declare a silo dead (capped by the number of live silos). Default 2: one silo alone cannot
    /// evict a healthy peer it merely cannot reach.
    /// </summary>
    public int NumVotesForDeathDeclaration { get; set; } = DefaultNumVotesForDeathDeclaration;

    /// <summary>Default of <see cref="DeathVoteExpirationTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultDeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a death vote counts; older votes are ignored. Default 10 s (Orleans: 2 min).</summary>
    public TimeSpan DeathVoteExpirationTimeout { get; set; } = DefaultDeathVoteExpirationTimeout;

    /// <summary>Default of <see cref="TableRefreshTimeout"/>: 2 s.</summary>
    public static readonly TimeSpan DefaultTableRefreshTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How often each silo re-reads the membership table, besides gossip. Default 2 s (Orleans: 60 s).</summary>
    public TimeSpan TableRefreshTimeout { get; set; } = DefaultTableRefreshTimeout;

    /// <summary>Default of <see cref="IAmAliveTablePublishTimeout"/>: 5 s.</summary>
    public static readonly TimeSpan DefaultIAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How often a silo writes its heartbeat (IAmAliveTime) into the table. Default 5 s (Orleans: 30 s).</summary>
    public TimeSpan IAmAliveTablePublishTimeout { get; set; } = DefaultIAmAliveTablePublishTimeout;
}

/// <summary>Checks <see cref="ClusterTimingOptions"/> at start-up; each message names the key and the fix.</summary>
internal sealed class ClusterTimingOptionsValidator : IValidateOptions<ClusterTimingOptions>
{
    // The promise docs/cluster.md makes: a dead silo's grains answer again elsewhere within this time.
    private static readonly TimeSpan FailoverBudget = TimeSpan.FromSeconds(15);

    public ValidateOptionsResult Validate(string? name, ClusterTimingOptions options)
    {
        var failures = new List<string>();
        void Positive(string key, TimeSpan value, TimeSpan example)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{ClusterTimingOptions.Section}:{key} is {value}; it must be a positive time span such as {example:c}.");
            }
        }
        Positive(nameof(options.ProbeTimeout), options.ProbeTimeout, ClusterTimingOptions.DefaultProbeTimeout);
        Positive(nameof(options.DeathVoteExpirationTimeout), options.DeathVoteExpirationTimeout, ClusterTimingOptions.DefaultDeathVoteExpirationTimeout);
        Positive(nameof(options.TableRefreshTimeout), options.TableRefreshTimeout, ClusterTimingOptions.DefaultTableRefreshTimeout);
        Positive(nameof(options.IAmAliveTablePublishTimeout), options.IAmAliveTablePublishTimeout, ClusterTimingOptions.DefaultIAmAliveTablePublishTimeout);
        if (options.NumMissedProbesLimit < 1)
        {
            failures.Add($"{ClusterTimingOptions.Section}:{nameof(options.NumMissedProbesLimit)} is {options.NumMissedProbesLimit}; it must be at least 1 (default {ClusterTimingOptions.DefaultNumMissedProbesLimit}).");
        }
        if (options.NumVotesForDeathDeclaration < 1)
        {
            failures.Add($"{ClusterTimingOptions.Section}:{nameof(options.NumVotesForDeathDeclaration)} is {options.NumVotesForDeathDeclaration}; it must be at least 1 (default {ClusterTimingOptions.DefaultNumVotesForDeathDeclaration}).");
        }
        if (options.ProbeTimeout > TimeSpan.Zero && options.NumMissedProbesLimit >= 1
            && options.ProbeTimeout * options.NumMissedProbesLimit >= FailoverBudget)
        {
            failures.Add(
                $"{ClusterTimingOptions.Section}:{nameof(options.ProbeTimeout)} ({options.ProbeTimeout:c}) x {nameof(options.NumMissedProbesLimit)} ({options.NumMissedProbesLimit}) " +
                $"is {options.ProbeTimeout * options.NumMissedProbesLimit:c}, so a dead silo could not be detected within {FailoverBudget.TotalSeconds:0} s; lower either one.");
        }
        if (options.DeathVoteExpirationTimeout > TimeSpan.Zero && options.ProbeTimeout > TimeSpan.Zero
            && options.DeathVoteExpirationTimeout <= options.ProbeTimeout * Math.Max(1, options.NumMissedProbesLimit))
        {
            failures.Add(
                $"{ClusterTimingOptions.Section}:{nameof(options.DeathVoteExpirationTimeout)} ({options.DeathVoteExpirationTimeout:c}) must exceed the time to miss every probe " +
                $"({options.ProbeTimeout * Math.Max(1, options.NumMissedProbesLimit):c}), or votes expire before enough accumulate; raise it (default {ClusterTimingOptions.DefaultDeathVoteExpirationTimeout:c}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
