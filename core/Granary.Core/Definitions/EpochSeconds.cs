namespace Granary.Definitions;

/// <summary>
/// Seconds since the Unix epoch (Feast's <c>unix_timestamp_val</c>, <c>google.protobuf.Timestamp.seconds</c>) as instants:
/// only the seconds an instant can hold, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, convert; anything else is refused
/// by the caller with the field named, never thrown from deep inside a conversion.
/// </summary>
public static class EpochSeconds
{
    /// <summary>0001-01-01T00:00:00Z.</summary>
    public const long Min = -62_135_596_800;

    /// <summary>9999-12-31T23:59:59Z.</summary>
    public const long Max = 253_402_300_799;

    /// <summary>The range as error messages name it.</summary>
    public const string Range = "-62135596800 (0001-01-01T00:00:00Z) to 253402300799 (9999-12-31T23:59:59Z)";

    /// <summary><paramref name="seconds"/> as an instant; false when it is outside <see cref="Min"/>..<see cref="Max"/>.</summary>
    public static bool TryToInstant(long seconds, out DateTimeOffset at)
    {
        if (seconds is < Min or > Max)
        {
            at = default;
            return false;
        }
        at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
