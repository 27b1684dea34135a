using System.Globalization;

namespace Granary.Offline.Engine;

/// <summary>Quoting for SQL text built by the offline stores (DuckDB and PostgreSQL share the ANSI rules used here).</summary>
public static class Sql
{
    /// <summary>A double-quoted identifier.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A single-quoted string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>An interval literal: whole seconds when possible (readable), else microseconds.</summary>
    public static string Interval(TimeSpan span)
    {
        var micros = span.Ticks / (TimeSpan.TicksPerMillisecond / 1000);
        return micros % 1_000_000 == 0
            ? $"INTERVAL '{(micros / 1_000_000).ToString(CultureInfo.InvariantCulture)} seconds'"
            : $"INTERVAL '{micros.ToString(CultureInfo.InvariantCulture)} microseconds'";
    }
}
