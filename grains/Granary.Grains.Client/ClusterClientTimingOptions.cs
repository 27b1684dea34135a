using Microsoft.Extensions.Options;

namespace Granary.Grains.Client;

/// <summary>
/// How fast an Orleans client of a Granary cluster (the gateway process, any host calling <see cref="GranaryClientExtensions.AddGranaryClient"/>)
/// gives up on a dead silo. Orleans' own defaults (30 s response timeout, 60 s gateway list refresh) make one SIGKILLed silo
/// stall every call in flight on it for 30 s; these make it cost seconds. Section <c>Granary:Client</c>.
/// </summary>
public sealed class ClusterClientTimingOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Granary:Client";

    /// <summary>Default of <see cref="ResponseTimeout"/>: 3 s.</summary>
    public static readonly TimeSpan DefaultResponseTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a grain call waits for its answer before it fails with a <see cref="TimeoutException"/> (Orleans'
    /// <c>ClientMessagingOptions.ResponseTimeout</c>; Orleans: 30 s). Calls that legitimately run longer (a materialization
    /// run, parity, the registry long poll) carry their own <c>[ResponseTimeout]</c>. Default 3 s: a call in flight on a
    /// silo that dies (a push, say) fails within 5 s of the caller's start, as the SDK's own 2 s default deadline expects.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = DefaultResponseTimeout;

    /// <summary>Default of <see cref="GatewayListRefreshPeriod"/>: 1 s.</summary>
    public static readonly TimeSpan DefaultGatewayListRefreshPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the client re-reads the list of live silo gateways from the membership table (Orleans'
    /// <c>GatewayOptions.GatewayListRefreshPeriod</c>; Orleans: 60 s), so a dead silo's gateway is dropped and a new one used. Default 1 s.
    /// </summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = DefaultGatewayListRefreshPeriod;
}

/// <summary>Checks <see cref="ClusterClientTimingOptions"/> before the client starts, naming the key and the fix.</summary>
public sealed class ClusterClientTimingOptionsValidator : IValidateOptions<ClusterClientTimingOptions>
{
    // Past this a dead silo stalls callers as long as Orleans' own defaults would, which these options exist to prevent.
    private static readonly TimeSpan MaxResponseTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxGatewayListRefreshPeriod = TimeSpan.FromSeconds(60);
    // Below these a loaded machine's ordinary calls and table reads would fail or flood the membership database.
    private static readonly TimeSpan MinResponseTimeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinGatewayListRefreshPeriod = TimeSpan.FromMilliseconds(100);

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ClusterClientTimingOptions options)
    {
        var failures = new List<string>();
        Check(nameof(options.ResponseTimeout), options.ResponseTimeout, MinResponseTimeout, MaxResponseTimeout, ClusterClientTimingOptions.DefaultResponseTimeout, failures);
        Check(nameof(options.GatewayListRefreshPeriod), options.GatewayListRefreshPeriod, MinGatewayListRefreshPeriod, MaxGatewayListRefreshPeriod,
            ClusterClientTimingOptions.DefaultGatewayListRefreshPeriod, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string key, TimeSpan value, TimeSpan min, TimeSpan max, TimeSpan example, List<string> failures)
    {
        if (value < min || value > max)
            failures.Add($"{ClusterClientTimingOptions.Section}:{key} is {value:c}; it must be between {min:c} and {max:c}, e.g. {example:c} (the default)");
    }
}
