using System.Text;
using Granary.Offline;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>
/// A view's source as the join reads it: the table expression, its event timestamp column, its created timestamp column
/// (if any), the join keys (by join key name) compared as INTEGER (see <see cref="JoinKeyNarrowing"/>), and with a created
/// timestamp, the BIGINT packing of the (event, created) order when the source's ranges allow it (see <see cref="EventOrderEncoding"/>).
/// </summary>
internal sealed record ViewSource(string Relation, DuckDbColumn TimestampColumn, DuckDbColumn? CreatedColumn, IReadOnlySet<string> NarrowKeys,
    EventOrderEncoding? Order = null);

/// <summary>
/// Builds DuckDB's point-in-time join: per view, <c>ASOF LEFT JOIN</c> on the join keys and the latest event time at or
/// before the entity time, then the TTL lower bound as a CASE on the matched row. Times compare as epoch microseconds.
/// When the source has a created timestamp, the ASOF inequality runs on one value that orders by event time, then
/// created time (ASOF takes a single inequality; measured cheaper than deduplicating with a window first): a BIGINT when
/// the source's ranges fit (<see cref="EventOrderEncoding"/>), otherwise a HUGEINT.
/// One output row per entity row, in entity row order.
/// </summary>
internal static class PointInTimeJoinSql
{
    /// <summary>The join as a SELECT. With <paramref name="keepInternalColumns"/> it also returns the row id and hidden on-demand inputs.</summary>
    /// <param name="plan">The planned views.</param>
    /// <param name="entities">The loaded entity table.</param>
    /// <param name="sources">Per view (same order as <see cref="HistoricalRetrievalPlan.Views"/>), the table expression to read and its timestamp column.</param>
    /// <param name="keepInternalColumns">Whether to keep the row id and hidden columns (for on-demand processing).</param>
    public static string Build(HistoricalRetrievalPlan plan, EntityTable entities, IReadOnlyList<ViewSource> sources, bool keepInternalColumns)
    {
        var sql = new StringBuilder();
        sql.Append("-- Granary point-in-time join: for each entity row and view, the latest row at or before the entity time.\n");
        sql.Append("WITH\n");
        for (var i = 0; i < plan.Views.Count; i++)
        {
            AppendViewSource(sql, plan.Views[i], $"v{i}", sources[i]);
            sql.Append(i == plan.Views.Count - 1 ? "\n" : ",\n");
        }

        sql.Append("SELECT\n    e.* EXCLUDE (").Append(entities.InternalColumns).Append(')');
        if (keepInternalColumns) sql.Append($",\n    e.{entities.RowNumber} AS ").Append(EntityTable.RowIdColumn);
        for (var i = 0; i < plan.Views.Count; i++)
        {
            var view = plan.Views[i];
            var alias = $"v{i}";
            foreach (var feature in view.Features)
            {
                if (!feature.IsOutput && !keepInternalColumns) continue;
                sql.Append(",\n    ");
                var value = $"{alias}.{Sql.Identifier(feature.Feature)}";
                if (view.Ttl is { } ttl)
                    sql.Append($"CASE WHEN {alias}.__event_us >= e.{EntityTable.TimestampUtcColumn} - {Micros(ttl)} THEN {value} END");
                else
                    sql.Append(value);
                sql.Append(" AS ").Append(Sql.Identifier(feature.ColumnName));
            }
        }
        sql.Append($"\nFROM {Sql.Identifier(entities.TableName)} e");
        for (var i = 0; i < plan.Views.Count; i++)
        {
            var view = plan.Views[i];
            var alias = $"v{i}";
            sql.Append($"\nASOF LEFT JOIN {alias} ON ");
            foreach (var key in view.JoinKeys)
            {
                var entityKey = $"e.{Sql.Identifier(key.EntityColumn)}";
                if (sources[i].NarrowKeys.Contains(key.JoinKey)) entityKey = $"TRY_CAST({entityKey} AS {JoinKeyNarrowing.NarrowType})";
                sql.Append($"{entityKey} = {alias}.{Sql.Identifier(key.JoinKey)} AND ");
            }
            var entityMicros = $"e.{EntityTable.TimestampUtcColumn}";
            sql.Append(sources[i] switch
            {
                { CreatedColumn: null } => $"{entityMicros} >= {alias}.__event_us",
                { Order: { } order } => $"{order.EntityBound(entityMicros)} >= {alias}.__event_order",
                _ => $"{entityMicros}::HUGEINT * {TwoTo64} + {TwoTo64Minus1} >= {alias}.__event_order",
            });
        }
        sql.Append($"\nORDER BY e.{entities.RowNumber}");
        return sql.ToString();
    }

    private const string TwoTo64 = "18446744073709551616";
    private const string TwoTo64Minus1 = "18446744073709551615";

    // A TTL as BIGINT microseconds, with the readable form alongside.
    private static string Micros(TimeSpan ttl) =>
        $"{(ttl.Ticks / (TimeSpan.TicksPerMillisecond / 1000)).ToString(System.Globalization.CultureInfo.InvariantCulture)} /* ttl {ttl} */";

    private static void AppendViewSource(StringBuilder sql, ViewRetrieval view, string alias, ViewSource source)
    {
        sql.Append($"{alias} AS ( -- feature view {view.View.Name}{(view.NameToUse != view.View.Name ? $" as {view.NameToUse}" : "")}\n    SELECT ");
        foreach (var key in view.JoinKeys)
        {
            sql.Append(source.NarrowKeys.Contains(key.JoinKey)
                ? $"CAST({Sql.Identifier(key.SourceColumn)} AS {JoinKeyNarrowing.NarrowType}) AS {Sql.Identifier(key.JoinKey)}"
                : Column(key.SourceColumn, key.JoinKey));
            sql.Append(", ");
        }
        var eventMicros = DuckDbTypeMap.EpochMicros(Sql.Identifier(view.TimestampColumn), source.TimestampColumn);
        sql.Append($"{eventMicros} AS __event_us");
        if (view.CreatedTimestampColumn is { } created && source.CreatedColumn is { } createdColumn)
        {
            // Event time in the high 64 bits, created time (NULL lowest) in the low 64: the max is the latest event, then the latest created.
            var createdMicros = DuckDbTypeMap.EpochMicros(Sql.Identifier(created), createdColumn);
            sql.Append(source.Order is { } order
                ? $",\n        {order.SourceOrder(eventMicros, createdMicros)} AS __event_order"
                : $",\n        {eventMicros}::HUGEINT * {TwoTo64} + (coalesce({createdMicros}::HUGEINT, -9223372036854775808::HUGEINT) + 9223372036854775808::HUGEINT) AS __event_order");
        }
        // Features leave the source as their declared type (a DECIMAL column declared Float64 arrives as DOUBLE), so
        // transforms, outputs and the online store see the schema, not whatever the file happened to store.
        foreach (var feature in view.Features)
            sql.Append($", CAST({Sql.Identifier(feature.SourceColumn)} AS {DuckDbTypeMap.SqlTypeOf(feature.Type)}) AS {Sql.Identifier(feature.Feature)}");
        sql.Append($"\n    FROM {source.Relation}");
        sql.Append("\n)");
    }

    private static string Column(string stored, string name) =>
        stored == name ? Sql.Identifier(name) : $"{Sql.Identifier(stored)} AS {Sql.Identifier(name)}";
}
