using System.Globalization;
using DuckDB.NET.Data;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>
/// The (event time, created time) order of a view with a created timestamp, packed into one BIGINT when the source's
/// ranges allow, so DuckDB's ASOF sorts an 8-byte value instead of a HUGEINT (measured on 1M entity rows x 10M source
/// rows: 7.4 s CPU against 8.3 s with the HUGEINT, 6.5 s for a plain ASOF on the event time alone).
/// <para>
/// Each time becomes a code counted in its unit from the source's minimum: <c>event code = (event - EventMin) / EventUnit</c>
/// and <c>created code = (created - CreatedMin) / CreatedUnit + 1</c>, 0 for NULL (oldest). The order is
/// <c>event code * CreatedCodes + created code</c>, where <see cref="CreatedCodes"/> is one more than the largest created code, so a
/// later event always beats a later created time. An entity time T is mapped to the largest order whose event is at or
/// before T. The bounds come from the source's min and max (DuckDB answers them from Parquet statistics); the units are
/// the coarsest of day, second, millisecond and microsecond that every value is a multiple of (a scan of the created
/// column, then of the event column if still needed, only when microseconds do not fit in 63 bits; remembered while the
/// files are unchanged). When nothing fits, the join keeps the HUGEINT (<see cref="TryPlan"/> returns null).
/// The SQL checks every source row against these bounds and fails loudly if the data changed since they were read.
/// </para>
/// </summary>
internal sealed record EventOrderEncoding(long EventMin, long EventMax, long EventUnit, long CreatedMin, long CreatedUnit, long CreatedCodes)
{
    private const long Day = 86_400_000_000;
    private static readonly long[] Units = [Day, 1_000_000, 1_000, 1];

    /// <summary>
    /// Plans the encoding for <paramref name="relation"/>'s event and created columns, or returns null when the codes would
    /// not fit in a BIGINT (or the source is empty).
    /// </summary>
    /// <param name="connection">The retrieval's connection.</param>
    /// <param name="relation">The source's table expression.</param>
    /// <param name="eventColumn">The event timestamp column.</param>
    /// <param name="createdColumn">The created timestamp column.</param>
    /// <param name="fingerprint">The source files' identity (<see cref="ParquetSources.Fingerprint"/>): the unit scan's result is reused
    /// while it is unchanged (a stale reuse could only trip the SQL's bounds check, never match wrongly); null scans every time.</param>
    public static EventOrderEncoding? TryPlan(DuckDBConnection connection, string relation, DuckDbColumn eventColumn, DuckDbColumn createdColumn, string? fingerprint = null)
    {
        var ev = Sql.Identifier(eventColumn.Name);
        var cr = Sql.Identifier(createdColumn.Name);
        // min/max of the raw columns come from the Parquet statistics; epoch_us is monotonic, so it can wrap the aggregate.
        long? eventMin, eventMax, createdMin, createdMax;
        using (var rows = connection.QueryRows($"""
            SELECT {DuckDbTypeMap.EpochMicros($"min({ev})", eventColumn)}, {DuckDbTypeMap.EpochMicros($"max({ev})", eventColumn)},
                {DuckDbTypeMap.EpochMicros($"min({cr})", createdColumn)}, {DuckDbTypeMap.EpochMicros($"max({cr})", createdColumn)}
            FROM {relation}
            """))
        {
            if (!rows.Read()) return null;
            (eventMin, eventMax, createdMin, createdMax) = ((long?)rows.GetValue(0), (long?)rows.GetValue(1), (long?)rows.GetValue(2), (long?)rows.GetValue(3));
        }
        if (eventMin is not { } eMin || eventMax is not { } eMax) return null;
        var cMin = createdMin ?? 0;
        var cMax = createdMax ?? 0;
        var allCreatedNull = createdMin is null;

        if (Fits(eMin, eMax, 1, cMin, cMax, 1, allCreatedNull) is { } micros) return micros;
        var createdUnit = allCreatedNull ? Day : ScanUnit(connection, relation, createdColumn, fingerprint);
        // Microsecond event codes need no division (and no scan of the event column), so they are preferred when they fit.
        return Fits(eMin, eMax, 1, cMin, cMax, createdUnit, allCreatedNull)
            ?? Fits(eMin, eMax, ScanUnit(connection, relation, eventColumn, fingerprint), cMin, cMax, createdUnit, allCreatedNull);
    }

    // Unit scans by source fingerprint and column; bounded, since fingerprints change whenever files are rewritten.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), long> ScannedUnits = new();

    /// <summary>The coarsest unit (day, second, millisecond, microsecond) that divides every value of a time column (one pass over it).</summary>
    private static long ScanUnit(DuckDBConnection connection, string relation, DuckDbColumn column, string? fingerprint)
    {
        if (TypeUnit(column) is var typed and > 1) return typed;
        if (fingerprint is not null && ScannedUnits.TryGetValue((fingerprint, column.Name), out var known)) return known;
        var micros = DuckDbTypeMap.EpochMicros(Sql.Identifier(column.Name), column);
        var unit = 1L;
        using (var rows = connection.QueryRows($"SELECT {string.Join(", ", Units[..^1].Select(u => $"bool_and({micros} % {L(u)} = 0)"))} FROM {relation}"))
        {
            if (rows.Read())
            {
                // Coarsest first; NULL means no non-NULL value, where any unit does.
                for (var i = 0; i < Units.Length - 1 && unit == 1; i++)
                    if (rows.GetValue(i) is not false) unit = Units[i];
            }
        }
        if (fingerprint is not null)
        {
            if (ScannedUnits.Count >= 1024) ScannedUnits.Clear();
            ScannedUnits[(fingerprint, column.Name)] = unit;
        }
        return unit;
    }

    /// <summary>The encoding with these bounds and units, if its largest order fits in a BIGINT.</summary>
    internal static EventOrderEncoding? Fits(long eventMin, long eventMax, long eventUnit, long createdMin, long createdMax, long createdUnit, bool allCreatedNull)
    {
        var eventCodes = ((Int128)eventMax - eventMin) / eventUnit + 1;
        var createdCodes = allCreatedNull ? 1 : ((Int128)createdMax - createdMin) / createdUnit + 2;
        if (eventCodes * createdCodes - 1 > long.MaxValue) return null;
        return new EventOrderEncoding(eventMin, eventMax, eventUnit, allCreatedNull ? 0 : createdMin, createdUnit, (long)createdCodes);
    }

    /// <summary>The source-side BIGINT order of a row, from its event and created times in epoch microseconds.</summary>
    public string SourceOrder(string eventMicros, string createdMicros)
    {
        var eventCode = Code(eventMicros, EventMin, EventUnit);
        var createdCode = CreatedCodes == 1 ? null : $"coalesce({Code(createdMicros, CreatedMin, CreatedUnit)} + 1, 0)";
        var order = createdCode is null ? eventCode : $"{eventCode} * {L(CreatedCodes)} + {createdCode}";
        // A value outside the planned bounds or units means the files changed after they were read: never a wrong match.
        var guard = $"{eventMicros} BETWEEN {L(EventMin)} AND {L(EventMax)}{UnitCheck(eventMicros, EventMin, EventUnit)}";
        guard += CreatedCodes == 1
            ? $" AND {createdMicros} IS NULL"
            : $" AND ({createdMicros} IS NULL OR ({createdMicros} BETWEEN {L(CreatedMin)} AND {L(CreatedMin + (CreatedCodes - 2) * CreatedUnit)}{UnitCheck(createdMicros, CreatedMin, CreatedUnit)}))";
        return $"CASE WHEN {eventMicros} IS NULL OR ({guard}) THEN {order} ELSE error('the source files changed while the join ran; run the retrieval again') END";
    }

    /// <summary>The largest order an entity time (epoch microseconds) may match: the latest event at or before it, with any created time.</summary>
    public string EntityBound(string entityMicros)
    {
        var top = ((Int128)(EventMax - EventMin) / EventUnit + 1) * CreatedCodes - 1;
        return $"CASE WHEN {entityMicros} < {L(EventMin)} THEN -1 WHEN {entityMicros} >= {L(EventMax)} THEN {top.ToString(CultureInfo.InvariantCulture)} "
            + $"ELSE {Code(entityMicros, EventMin, EventUnit)} * {L(CreatedCodes)} + {L(CreatedCodes - 1)} END";
    }

    // The unit a column's type guarantees (DATE: days, TIMESTAMP_S: seconds, TIMESTAMP_MS: milliseconds).
    private static long TypeUnit(DuckDbColumn column) => column.SqlType switch
    {
        "DATE" => Day,
        "TIMESTAMP_S" => 1_000_000,
        "TIMESTAMP_MS" => 1_000,
        _ => 1,
    };

    private static string Code(string micros, long min, long unit) =>
        unit == 1 ? $"({micros} - {L(min)})" : $"({micros} - {L(min)}) // {L(unit)}";

    private static string UnitCheck(string micros, long min, long unit) =>
        unit == 1 ? "" : $" AND ({micros} - {L(min)}) % {L(unit)} = 0";

    private static string L(long value) => value.ToString(CultureInfo.InvariantCulture);
}
