namespace Granary.DuckDb;

/// <summary>Conversions between .NET times and DuckDB's microseconds since the Unix epoch.</summary>
public static class DuckDbTime
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>Microseconds since the epoch of an instant.</summary>
    public static long ToMicros(DateTimeOffset value) => (value.UtcTicks - DateTime.UnixEpoch.Ticks) / TicksPerMicrosecond;

    /// <summary>Microseconds since the epoch; local times are converted to UTC, unspecified ones are taken as UTC.</summary>
    public static long ToMicros(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        return (utc.Ticks - DateTime.UnixEpoch.Ticks) / TicksPerMicrosecond;
    }

    /// <summary>The instant (UTC) for microseconds since the epoch.</summary>
    public static DateTimeOffset FromMicros(long micros) => new(DateTime.UnixEpoch.Ticks + micros * TicksPerMicrosecond, TimeSpan.Zero);
}
