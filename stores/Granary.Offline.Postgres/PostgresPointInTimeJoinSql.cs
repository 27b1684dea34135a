using System.Text;
using Granary.Definitions;
using Granary.Offline;
using Granary.Offline.Engine;

namespace Granary.Offline.Postgres;

/// <summary>
/// Builds PostgreSQL's point-in-time join: for each entity row and view, a <c>LEFT JOIN LATERAL</c> subquery picks the
/// source row with matching keys inside <c>[T - ttl, T]</c>, ordered by event time then created time (latest first),
/// <c>LIMIT 1</c>. Timestamps compare as timestamptz with the session in UTC, so naive columns count as UTC.
/// </summary>
internal static class PostgresPointInTimeJoinSql
{
    /// <summary>The uploaded entity table's time column (timestamptz).</summary>
    public const string EntityTimeColumn = "__granary_entity_ts";

    /// <summary>The SQL text of a PostgreSQL source: a table name (as given, may be schema-qualified) or a parenthesised query.</summary>
    public static string SourceRelation(DataSource source) => source switch
    {
        PostgresSource { Query: { Length: > 0 } query } => $"({query})",
        PostgresSource { Table: { Length: > 0 } table } => table,
        PostgresSource => throw new HistoricalRetrievalException($"PostgreSQL source '{source.Name}' has neither a table nor a query; set one"),
        _ => throw new HistoricalRetrievalException($"source '{source.Name}' is a {OfflineSources.KindOf(source)} source; the PostgreSQL offline store reads PostgreSQL sources only"),
    };

    /// <summary>The join over entity table <paramref name="entityTable"/> (row id, entity time, join-key columns); returns the row id and every planned feature column.</summary>
    public static string Build(HistoricalRetrievalPlan plan, string entityTable)
    {
        var sql = new StringBuilder("-- Granary point-in-time join: for each entity row and view, the latest row at or before the entity time.\n");
        sql.Append($"SELECT e.{EntityTable.RowIdColumn}");
        for (var i = 0; i < plan.Views.Count; i++)
        {
            foreach (var feature in plan.Views[i].Features)
                sql.Append($",\n    v{i}.{Sql.Identifier(feature.Feature)} AS {Sql.Identifier(feature.ColumnName)}");
        }
        sql.Append($"\nFROM {entityTable} e");
        for (var i = 0; i < plan.Views.Count; i++)
        {
            var view = plan.Views[i];
            var ts = $"s.{Sql.Identifier(view.TimestampColumn)}::timestamptz";
            sql.Append($"\nLEFT JOIN LATERAL ( -- feature view {view.View.Name}{(view.NameToUse != view.View.Name ? $" as {view.NameToUse}" : "")}\n    SELECT ");
            sql.Append(string.Join(", ", view.Features.Select(f => $"s.{Sql.Identifier(f.SourceColumn)} AS {Sql.Identifier(f.Feature)}")));
            sql.Append($"\n    FROM {SourceRelation(view.Source)} s\n    WHERE ");
            foreach (var key in view.JoinKeys)
                sql.Append($"s.{Sql.Identifier(key.SourceColumn)} = e.{Sql.Identifier(key.EntityColumn)} AND ");
            sql.Append($"{ts} <= e.{EntityTimeColumn}");
            if (view.Ttl is { } ttl) sql.Append($" AND {ts} >= e.{EntityTimeColumn} - {Sql.Interval(ttl)}");
            sql.Append($"\n    ORDER BY {ts} DESC");
            if (view.CreatedTimestampColumn is { } created) sql.Append($", s.{Sql.Identifier(created)} DESC NULLS LAST");
            sql.Append($"\n    LIMIT 1\n) v{i} ON true");
        }
        sql.Append($"\nORDER BY e.{EntityTable.RowIdColumn}");
        return sql.ToString();
    }
}
