namespace Granary.Push;

/// <summary>How pushes deduplicate events from at-least-once producers (configuration section <c>Granary:Push</c>).</summary>
public sealed class PushOptions
{
    /// <summary>The default <see cref="EventIdColumn"/>.</summary>
    public const string DefaultEventIdColumn = "event_id";

    /// <summary>The default <see cref="DeduplicationWindow"/>: 24 hours.</summary>
    public static readonly TimeSpan DefaultDeduplicationWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// The column of a push batch that holds each row's event id. A batch without it is not deduplicated; with it, a row
    /// whose id was pushed within <see cref="DeduplicationWindow"/> (through any silo, before any restart) is dropped.
    /// Default <c>event_id</c>. It is not written to the online or offline store.
    /// </summary>
    public string EventIdColumn { get; set; } = DefaultEventIdColumn;

    /// <summary>How long an event id is remembered after it was pushed. Default 24 hours; must be positive.</summary>
    public TimeSpan DeduplicationWindow { get; set; } = DefaultDeduplicationWindow;

    /// <summary>The default <see cref="ClaimLease"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultClaimLease = TimeSpan.FromSeconds(30);

    /// <summary>The default <see cref="PendingWait"/>: 20 seconds.</summary>
    public static readonly TimeSpan DefaultPendingWait = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a push's event ids stay pending (claimed, rows not yet all stored) when its attempt neither finishes nor
    /// releases them, e.g. because its silo died; then a retry takes them over. Longer than the slowest push should take.
    /// Default 30 seconds; must be positive.
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = DefaultClaimLease;

    /// <summary>
    /// How long a push waits for event ids pending under another attempt (to be committed, or to lapse and be taken over)
    /// before it answers unavailable (the producer retries). Keep it below the callers' timeout. Default 20 seconds; must be positive.
    /// </summary>
    public TimeSpan PendingWait { get; set; } = DefaultPendingWait;

    /// <summary>The problems of these options (empty when valid), each naming the key and the fix.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(EventIdColumn))
            problems.Add("Granary:Push:EventIdColumn is empty; name the column that holds event ids (default event_id)");
        if (DeduplicationWindow <= TimeSpan.Zero)
            problems.Add($"Granary:Push:DeduplicationWindow is {DeduplicationWindow}; give a positive duration such as 24:00:00");
        if (ClaimLease <= TimeSpan.Zero)
            problems.Add($"Granary:Push:ClaimLease is {ClaimLease}; give a positive duration such as 00:00:30");
        if (PendingWait <= TimeSpan.Zero)
            problems.Add($"Granary:Push:PendingWait is {PendingWait}; give a positive duration such as 00:00:20");
        return problems;
    }
}
