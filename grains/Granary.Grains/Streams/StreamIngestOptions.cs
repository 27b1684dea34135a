namespace Granary.Grains.Streams;

/// <summary>Settings of the hosted stream ingest (section <c>Granary:Streams</c>).</summary>
public sealed class StreamIngestOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Granary:Streams";

    /// <summary>Default <see cref="EnsureEvery"/>.</summary>
    public static readonly TimeSpan DefaultEnsureEvery = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often each silo makes sure every stream's worker runs somewhere (and re-reads the registry for new streams):
    /// after a silo dies, its streams resume within about this long once the cluster has declared it dead. Default 5 s.
    /// </summary>
    public TimeSpan EnsureEvery { get; set; } = DefaultEnsureEvery;

    /// <summary>The connection of streams that name none: the online store's, when it is Redis; set by hosting.</summary>
    public string? DefaultConnection { get; set; }

    /// <summary>What is wrong with these settings (empty when fine).</summary>
    public IReadOnlyList<string> Problems() => EnsureEvery <= TimeSpan.Zero
        ? [$"Granary:Streams:EnsureEvery is {EnsureEvery}; it must be longer than 0 (default {DefaultEnsureEvery})"]
        : [];
}
