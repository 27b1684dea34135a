namespace Granary.Grains.Online;

/// <summary>
/// One per silo (key = the silo's address, <c>SiloAddress.ToParsableString()</c>; always activated on that silo): tells the
/// entity grains there that a view's rows changed in the online store behind their back (materialization), so their
/// next read of that view reloads it. Materialization calls every active silo's before it reports success.
/// </summary>
[Alias("granary.silo-online-cache")]
public interface ISiloOnlineCacheGrain : IGrainWithStringKey
{
    /// <summary>Invalidates the cached rows of <paramref name="views"/> of <paramref name="project"/> in every entity grain of this silo.</summary>
    [Alias("invalidate")]
    Task InvalidateAsync(string project, string[] views);
}
