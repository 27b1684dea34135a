using System.Text;
using Granary.Grains.Offline;

namespace Granary.Offline.DuckDb;

/// <summary>
/// Builds DuckDB's point-in-time join: per view, the source deduplicated on (keys, event time) by the latest created
/// timestamp, then <c>ASOF LEFT JOIN</c> (latest event time at or before the entity time), then the TTL lower bound as a
/// CASE on the matched row. One output row per entity row, ordered by the entity row id.
/// </summary>
public static class PointInTimeJoinSql
{
    /// <summary>The join as a SELECT. With <paramref name="keepInternalColumns"/> it also returns the row id and hidden on-demand inputs.</summary>
    /// <param name="plan">The planned views.</param>
    /// <param name="entities">The loaded entity table.</param>
    /// <param name="sourceExpressions">Per view (same order as <see cref="HistoricalRetrievalPlan.Views"/>), the table expression to read, e.g. <c>read_parquet('...')</c>.</param>
    /// <param name="keepInternalColumns">Whether to keep the row id and hidden columns (for on-demand processing).</param>
    public static string Build(HistoricalRetrievalPlan plan, EntityTable entities, IReadOnlyList<string> sourceExpressions, bool keepInternalColumns)
    {
        var sql = new StringBuilder();
        sql.Append("-- Granary point-in-time join: for each entity row and view, the latest row at or before the entity time.\n");
        sql.Append("WITH\n");
        for (var i = 0; i < plan.Views.Count; i++)
        {
            AppendViewSource(sql, plan.Views[i], $"v{i}", sourceExpressions[i]);
            sql.Append(i == plan.Views.Count - 1 ? "\n" : ",\n");
        }

        sql.Append("SELECT\n    e.* EXCLUDE (").Append(EntityTable.TimestampUtcColumn).Append(')');
        if (keepInternalColumns) sql.Append(",\n    e.rowid AS ").Append(EntityTable.RowIdColumn);
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
                    sql.Append($"CASE WHEN {alias}.__event_ts >= e.{EntityTable.TimestampUtcColumn} - {Sql.Interval(ttl)} THEN {value} END");
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
                sql.Append($"e.{Sql.Identifier(key.EntityColumn)} = {alias}.{Sql.Identifier(key.JoinKey)} AND ");
            sql.Append($"e.{EntityTable.TimestampUtcColumn} >= {alias}.__event_ts");
        }
        sql.Append("\nORDER BY e.rowid");
        return sql.ToString();
    }

    private static void AppendViewSource(StringBuilder sql, ViewRetrieval view, string alias, string sourceExpression)
    {
        sql.Append($"{alias} AS ( -- feature view {view.View.Name}{(view.NameToUse != view.View.Name ? $" as {view.NameToUse}" : "")}\n    SELECT ");
        foreach (var key in view.JoinKeys)
            sql.Append(Column(key.SourceColumn, key.JoinKey)).Append(", ");
        sql.Append($"CAST({Sql.Identifier(view.TimestampColumn)} AS TIMESTAMPTZ) AS __event_ts");
        foreach (var feature in view.Features)
            sql.Append(", ").Append(Column(feature.SourceColumn, feature.Feature));
        sql.Append($"\n    FROM {sourceExpression}");
        if (view.CreatedTimestampColumn is { } created)
        {
            // ASOF JOIN takes one inequality, so event-time ties are settled first: the latest created timestamp wins.
            sql.Append("\n    QUALIFY row_number() OVER (PARTITION BY ");
            foreach (var key in view.JoinKeys) sql.Append(Sql.Identifier(key.SourceColumn)).Append(", ");
            sql.Append($"{Sql.Identifier(view.TimestampColumn)} ORDER BY {Sql.Identifier(created)} DESC NULLS LAST) = 1");
        }
        sql.Append("\n)");
    }

    private static string Column(string stored, string name) =>
        stored == name ? Sql.Identifier(name) : $"{Sql.Identifier(stored)} AS {Sql.Identifier(name)}";
}
