namespace Granary.Gateway.Limits;

/// <summary>
/// Limits under <c>Granary:Gateway:Limits</c>. The request body size and entity rows per read are
/// <c>Granary:Gateway:MaxRequestBodyBytes</c> and <c>Granary:Gateway:MaxEntityRows</c> (older settings, kept where they are).
/// </summary>
public sealed class GatewayLimitsOptions
{
    /// <summary>Default <see cref="MaxFeatures"/>.</summary>
    public const int DefaultMaxFeatures = 1_000;

    /// <summary>Most features one online or historical request may name (a feature service counts as its own). Default 1,000.</summary>
    public int MaxFeatures { get; set; } = DefaultMaxFeatures;

    /// <summary>
    /// Requests per second each principal may make (anonymous callers are counted per remote address), as a token bucket
    /// refilled every second; over it a request gets 429 with <c>Retry-After</c> (gRPC RESOURCE_EXHAUSTED). 0 (the default)
    /// turns rate limiting off: without authentication every caller behind one proxy or load balancer shares an address,
    /// and the benchmarks drive tens of thousands of requests a second from one; set it once callers authenticate.
    /// </summary>
    public int RequestsPerSecond { get; set; }

    /// <summary>How many requests above the rate a principal may send at once (the bucket's size). Default 0 = one second's worth.</summary>
    public int Burst { get; set; }

    /// <summary>Whether rate limiting is on.</summary>
    public bool RateLimited => RequestsPerSecond > 0;

    /// <summary>Adds a message per bad setting (key, value, fix).</summary>
    public void Validate(List<string> failures)
    {
        const string section = "Granary:Gateway:Limits";
        if (MaxFeatures <= 0)
            failures.Add($"{section}:MaxFeatures is {MaxFeatures}; give a positive number (default {DefaultMaxFeatures})");
        if (RequestsPerSecond < 0)
            failures.Add($"{section}:RequestsPerSecond is {RequestsPerSecond}; give requests per second per principal, or 0 to turn rate limiting off (the default)");
        if (Burst < 0)
            failures.Add($"{section}:Burst is {Burst}; give how many requests may come at once, or 0 for one second's worth (the default)");
    }
}

/// <summary>A request over one of the gateway's limits: names the limit and the setting that changes it (413 / RESOURCE_EXHAUSTED).</summary>
public sealed class GatewayLimitException(string message, string hint) : GranaryException(message, hint);
