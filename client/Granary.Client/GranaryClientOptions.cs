using Grpc.Core.Interceptors;

namespace Granary.Client;

/// <summary>Settings of a <see cref="GranaryClient"/>; checked when the client is created.</summary>
public sealed class GranaryClientOptions
{
    /// <summary>The gateway's gRPC endpoint, e.g. <c>http://127.0.0.1:6570</c> (cleartext HTTP/2) or an https address.</summary>
    public Uri? Address { get; set; }

    /// <summary>The deadline of each attempt when a call names none. Default 2 s.</summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline of a historical job when the call names none (the job is cancelled on the server when it passes). Default 30 min.</summary>
    public TimeSpan DefaultJobDeadline { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Retries after the first attempt of an idempotent call (reads, status) on UNAVAILABLE or DEADLINE_EXCEEDED. Default 2; 0 turns retries off.</summary>
    public int RetryCount { get; set; } = 2;

    /// <summary>The delay before the first retry; each further retry doubles it. Default 100 ms.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Consecutive failed calls (after their retries) that open the breaker. Default 5; 0 turns the breaker off.</summary>
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long the breaker stays open before one trial call is let through (half-open). Default 10 s.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Entries the local read cache holds (least recently used leave first). 0 (default) turns the cache off.</summary>
    public int CacheSize { get; set; }

    /// <summary>How long a cached read is served. Default 1 s.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Values served, flagged <see cref="OnlineFeaturesResult.FromFallback"/>, when the gateway cannot be reached or the breaker is
    /// open; keyed by feature reference (<c>view:feature</c>). Used only when every requested feature has one.
    /// </summary>
    public Dictionary<string, object?> FallbackDefaults { get; } = new(StringComparer.Ordinal);

    /// <summary>The clock of the cache's TTL and the breaker's break duration; tests set their own.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>An HTTP handler for the channel (a proxy, a custom TLS setup); default an <see cref="HttpClientHandler"/>.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// The bearer token every call sends (<c>authorization: Bearer ...</c>): an API key (<c>gk_...</c>) or a JWT. Default
    /// <see cref="GranaryCredentials.FromEnvironment"/>: <c>GRANARY_API_KEY</c>, else <c>GRANARY_TOKEN</c>, else the
    /// credentials file. Never put a token on a command line.
    /// </summary>
    public string? BearerToken { get; set; } = GranaryCredentials.FromEnvironment();

    /// <summary>Interceptors every attempt passes through (auth headers, logging, metrics), first one outermost.</summary>
    public List<Interceptor> Interceptors { get; } = [];

    internal void Validate()
    {
        if (Address is null) throw new ArgumentException("GranaryClientOptions.Address is not set: give the gateway's gRPC endpoint, e.g. http://127.0.0.1:6570.", nameof(Address));
        if (!Address.IsAbsoluteUri || (Address.Scheme != Uri.UriSchemeHttp && Address.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"GranaryClientOptions.Address '{Address}' is not an absolute http:// or https:// address; use e.g. http://127.0.0.1:6570.", nameof(Address));
        Positive(DefaultDeadline, nameof(DefaultDeadline));
        Positive(DefaultJobDeadline, nameof(DefaultJobDeadline));
        Positive(RetryBackoff, nameof(RetryBackoff));
        Positive(BreakerBreakDuration, nameof(BreakerBreakDuration));
        Positive(CacheTtl, nameof(CacheTtl));
        NotNegative(RetryCount, nameof(RetryCount));
        NotNegative(BreakerFailureThreshold, nameof(BreakerFailureThreshold));
        NotNegative(CacheSize, nameof(CacheSize));
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new ArgumentException($"GranaryClientOptions.{name} is {value}; it must be greater than zero.", name);
    }

    private static void NotNegative(int value, string name)
    {
        if (value < 0) throw new ArgumentException($"GranaryClientOptions.{name} is {value}; it must be 0 or more.", name);
    }
}
