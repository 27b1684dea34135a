using System.Globalization;

namespace Granary.Definitions;

/// <summary>
/// The one way Granary reads a timestamp from text: ISO 8601 only (date, then <c>T</c> or a space, time with optional
/// fraction, then <c>Z</c>, an offset, or nothing). No offset means UTC. Culture-dependent forms such as
/// <c>03/04/2024</c> are refused rather than guessed.
/// </summary>
public static class IsoTime
{
    private static readonly string[] Zoned =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd",
    ];

    /// <summary>Parses <paramref name="text"/> as an instant; false when it is not ISO 8601.</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
        => DateTimeOffset.TryParseExact(text?.Trim(), Zoned, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
