using System.Globalization;

namespace Granary.Definitions;

/// <summary>Durations as written in the repository: <c>0</c>, <c>90s</c>, <c>30m</c>, <c>2h</c>, <c>7d</c>, <c>1w</c>, or combined like <c>1d12h</c>.</summary>
public static class DurationText
{
    /// <summary>The accepted forms, for error messages.</summary>
    public const string Forms = "0, or a number with unit s, m, h, d or w (e.g. 30m, 2h, 7d, 1d12h)";

    /// <summary>The longest duration there is (<see cref="TimeSpan.MaxValue"/> in whole seconds): <c>10675199d2h48m5s</c>.</summary>
    public static readonly TimeSpan MaxValue = TimeSpan.FromSeconds(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerSecond);

    /// <summary>Parses a duration; false when the text is not one of <see cref="Forms"/> or is longer than <see cref="MaxValue"/>.</summary>
    public static bool TryParse(string? text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>
    /// Parses a duration; false when the text is not one of <see cref="Forms"/>, or, with <paramref name="tooLong"/> set,
    /// when it is well formed but longer than <see cref="MaxValue"/> (so callers can say so rather than "not a duration").
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan value, out bool tooLong)
    {
        value = TimeSpan.Zero;
        tooLong = false;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (t == "0") return true;
        var maxSeconds = (long)MaxValue.TotalSeconds;
        long totalSeconds = 0;
        var overflow = false;
        var i = 0;
        while (i < t.Length)
        {
            var start = i;
            while (i < t.Length && char.IsAsciiDigit(t[i])) i++;
            if (i == start || i == t.Length) return false;
            long unit = t[i] switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, 'w' => 604800, _ => 0 };
            if (unit == 0) return false;
            i++;
            // Keep reading after an overflow: a malformed rest makes the text "not a duration", not "too long".
            if (overflow) continue;
            if (!long.TryParse(t.AsSpan(start, i - 1 - start), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                || n > (maxSeconds - totalSeconds) / unit)
                overflow = true;
            else
                totalSeconds += n * unit;
        }
        if (overflow)
        {
            tooLong = true;
            return false;
        }
        value = TimeSpan.FromSeconds(totalSeconds);
        return true;
    }

    /// <summary>Formats a duration in the largest units that divide it exactly (<c>7d</c>, <c>1d12h</c>, <c>0</c>).</summary>
    public static string Format(TimeSpan value)
    {
        var seconds = (long)value.TotalSeconds;
        if (seconds <= 0) return "0";
        var parts = new System.Text.StringBuilder();
        foreach (var (unit, suffix) in new[] { (86400L, 'd'), (3600L, 'h'), (60L, 'm'), (1L, 's') })
        {
            if (seconds < unit) continue;
            parts.Append(CultureInfo.InvariantCulture, $"{seconds / unit}{suffix}");
            seconds %= unit;
        }
        return parts.ToString();
    }
}
