using Orleans.Concurrency;

namespace Granary.Grains.Push;

/// <summary>
/// Pushes rows to one push source (key <c>&lt;project&gt;/&lt;push source&gt;</c>). A stateless worker: each silo runs
/// pushes locally; deduplication by event id holds across silos and restarts because the claims live in the online store.
/// </summary>
[Alias("granary.push")]
public interface IPushGrain : IGrainWithStringKey
{
    /// <summary>
    /// Validates the rows against the schema of every feature view reading the push source (a bad batch is rejected whole
    /// with <see cref="Granary.Push.PushValidationException"/>, nothing stored), drops rows whose event id was pushed within
    /// the deduplication window, writes the rest to the online store through the entity grains and/or appends them to the
    /// offline batch source, and answers only once every row is stored.
    /// </summary>
    [Alias("push")]
    Task<PushResult> PushAsync(PushRequest request);
}

/// <summary>Where pushed rows go (Feast's PushMode).</summary>
[GenerateSerializer, Alias("granary.PushMode")]
public enum PushMode
{
    /// <summary>The online store only.</summary>
    Online,
    /// <summary>The offline batch source only.</summary>
    Offline,
    /// <summary>Both.</summary>
    OnlineAndOffline,
}

/// <summary>Parses and names <see cref="PushMode"/> values as users write them: <c>online</c>, <c>offline</c>, <c>online_and_offline</c>.</summary>
public static class PushModes
{
    /// <summary>The user-facing name.</summary>
    public static string Name(PushMode mode) => mode switch
    {
        PushMode.Online => "online",
        PushMode.Offline => "offline",
        _ => "online_and_offline",
    };

    /// <summary>Parses a user-facing name; false when unknown.</summary>
    public static bool TryParse(string? text, out PushMode mode)
    {
        (var ok, mode) = text switch
        {
            "online" => (true, PushMode.Online),
            "offline" => (true, PushMode.Offline),
            "online_and_offline" => (true, PushMode.OnlineAndOffline),
            _ => (false, PushMode.Online),
        };
        return ok;
    }

    /// <summary>Whether rows go to the online store.</summary>
    public static bool WritesOnline(this PushMode mode) => mode is PushMode.Online or PushMode.OnlineAndOffline;

    /// <summary>Whether rows go to the offline batch source.</summary>
    public static bool WritesOffline(this PushMode mode) => mode is PushMode.Offline or PushMode.OnlineAndOffline;
}

/// <summary>A push batch as sent: column names, rows of raw values (text or typed), and where the rows go.</summary>
/// <param name="Columns">Column names.</param>
/// <param name="Rows">Per row, one value per column: text (parsed as the declared type) or a typed value (converted only when exact).</param>
/// <param name="To">Online, offline or both.</param>
[GenerateSerializer, Immutable, Alias("granary.PushRequest")]
public sealed record PushRequest([property: Id(0)] string[] Columns, [property: Id(1)] object?[][] Rows, [property: Id(2)] PushMode To)
{
    /// <summary>Data rules not applied (<c>&lt;view&gt;/&lt;feature&gt;.&lt;check&gt;</c>): a row released from the quarantine passes the rule that held it.</summary>
    [Id(3)] public string[]? ReleasedRules { get; init; }
}

/// <summary>What a push did.</summary>
/// <param name="RowsReceived">Rows in the batch.</param>
/// <param name="RowsAccepted">Rows stored (received minus duplicates).</param>
/// <param name="DuplicatesDropped">Rows dropped because their event id was pushed within the window (or earlier in the batch).</param>
/// <param name="RowsIgnoredAsOlder">Online rows (one per accepted row and online feature view) the store refused because it holds a newer one.</param>
/// <param name="OnlineRowsApplied">Online rows now held.</param>
/// <param name="OfflineRowsAppended">Rows appended to the offline batch source.</param>
[GenerateSerializer, Immutable, Alias("granary.PushResult")]
public sealed record PushResult(
    [property: Id(0)] int RowsReceived,
    [property: Id(1)] int RowsAccepted,
    [property: Id(2)] int DuplicatesDropped,
    [property: Id(3)] int RowsIgnoredAsOlder,
    [property: Id(4)] int OnlineRowsApplied,
    [property: Id(5)] long OfflineRowsAppended)
{
    /// <summary>Rows set aside by a quarantine data rule (stored in the quarantine, not online, not offline).</summary>
    [Id(6)] public int RowsQuarantined { get; init; }
    /// <summary>Rows stored that break only warn data rules.</summary>
    [Id(7)] public int RowsWarned { get; init; }
}
