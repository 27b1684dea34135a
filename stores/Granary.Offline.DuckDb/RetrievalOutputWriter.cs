using System.Globalization;
using System.Text;
using Granary.Definitions;
using Granary.DuckDb;
using Granary.Offline;

namespace Granary.Offline.DuckDb;

/// <summary>
/// Writes a joined result to the output file with DuckDB's COPY (Parquet or CSV), applying on-demand views on the way:
/// their inputs are streamed chunk by chunk through the compiled transforms and the outputs appended to a staging table,
/// so no step holds the whole result in .NET memory.
/// </summary>
public static class RetrievalOutputWriter
{
    private const string JoinedTable = "granary_joined";
    private const string OnDemandTable = "granary_on_demand";

    /// <summary>
    /// Writes the result of <paramref name="joinQuery"/> (a SELECT with internal columns when the plan has on-demand views,
    /// without otherwise) or, when <paramref name="joinedTableReady"/>, of the already filled table <c>granary_joined</c>.
    /// Returns the rows written.
    /// </summary>
    public static long Write(DuckDbConnection connection, HistoricalRetrievalPlan plan, EntityTable entities, string? joinQuery, bool joinedTableReady,
        string outputPath, Action<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var copyOptions = OutputFiles.FormatOf(outputPath) == OutputFormat.Csv ? "(FORMAT csv, HEADER true)" : "(FORMAT parquet, COMPRESSION snappy)";
        var target = Sql.Literal(Path.GetFullPath(outputPath));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);

        if (plan.OnDemandViews.Count == 0 && !joinedTableReady)
        {
            using var copy = connection.Prepare($"COPY (\n{joinQuery}\n) TO {target} {copyOptions}");
            return copy.ExecuteWithProgress(p => progress?.Invoke(new("joining", p, entities.RowCount, 0)), cancellationToken);
        }

        if (!joinedTableReady)
        {
            using var stage = connection.Prepare($"CREATE OR REPLACE TEMP TABLE {JoinedTable} AS\n{joinQuery}");
            stage.ExecuteWithProgress(p => progress?.Invoke(new("joining", p, entities.RowCount, 0)), cancellationToken);
        }

        var select = new StringBuilder("SELECT ");
        select.Append(string.Join(", ", entities.Columns.Select(c => "j." + Sql.Identifier(c.Name))));
        var onDemandColumns = plan.OnDemandViews.SelectMany(v => v.Outputs).Select(o => o.ColumnName).ToHashSet(StringComparer.Ordinal);
        foreach (var column in plan.OutputColumns)
            select.Append(", ").Append(onDemandColumns.Contains(column) ? "o." : "j.").Append(Sql.Identifier(column));
        select.Append($"\nFROM {JoinedTable} j");
        if (plan.OnDemandViews.Count > 0)
        {
            ApplyOnDemandViews(connection, plan, entities, progress, cancellationToken);
            select.Append($"\nJOIN {OnDemandTable} o USING ({EntityTable.RowIdColumn})");
        }
        select.Append($"\nORDER BY j.{EntityTable.RowIdColumn}");
        using (var copy = connection.Prepare($"COPY (\n{select}\n) TO {target} {copyOptions}"))
        {
            var written = copy.ExecuteWithProgress(p => progress?.Invoke(new("writing", p, entities.RowCount, 0)), cancellationToken);
            connection.Execute($"DROP TABLE IF EXISTS {JoinedTable}; DROP TABLE IF EXISTS {OnDemandTable};");
            return written;
        }
    }

    /// <summary>The DuckDB column type of a feature value type.</summary>
    public static string DuckDbTypeOf(Definitions.ValueType type)
    {
        var scalar = type.Scalar switch
        {
            ScalarType.Int32 => "INTEGER",
            ScalarType.Int64 => "BIGINT",
            ScalarType.Float32 => "FLOAT",
            ScalarType.Float64 => "DOUBLE",
            ScalarType.String => "VARCHAR",
            ScalarType.Bool => "BOOLEAN",
            ScalarType.Bytes => "BLOB",
            ScalarType.UnixTimestamp => "TIMESTAMPTZ",
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown scalar type"),
        };
        return type.IsList ? scalar + "[]" : scalar;
    }

    private static void ApplyOnDemandViews(DuckDbConnection connection, HistoricalRetrievalPlan plan, EntityTable entities,
        Action<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var outputs = plan.OnDemandViews.SelectMany(v => v.Outputs).ToList();
        foreach (var output in outputs)
        {
            if (output.Type.IsList)
                throw new HistoricalRetrievalException($"on-demand feature '{output.Feature}' is a list ({output.Type}); offline retrieval supports scalar on-demand outputs only");
        }
        var definition = string.Join(", ", outputs.Select(o => $"{Sql.Identifier(o.ColumnName)} {DuckDbTypeOf(o.Type)}"));
        connection.Execute($"CREATE OR REPLACE TEMP TABLE {OnDemandTable} ({EntityTable.RowIdColumn} BIGINT, {definition})");

        // One query reads every input column once; each view gets its own reusable TransformRow.
        var inputColumns = plan.OnDemandViews.SelectMany(v => v.Inputs).Select(i => i.ColumnName).Distinct(StringComparer.Ordinal).ToList();
        foreach (var input in plan.OnDemandViews.SelectMany(v => v.Inputs.Where(i => i.FromEntityDataFrame).Select(i => (v, i))))
        {
            if (!entities.Has(input.i.ColumnName))
                throw new HistoricalRetrievalException($"on-demand feature view '{input.v.View.Name}' needs request field '{input.i.Name}', which is not a column of the entity dataframe (columns: {entities.ColumnList})");
        }
        var ordinals = inputColumns.Select((c, i) => (c, i + 1)).ToDictionary(x => x.c, x => x.Item2, StringComparer.Ordinal);
        var rows = plan.OnDemandViews.Select(_ => new TransformRow()).ToArray();
        var query = $"SELECT {EntityTable.RowIdColumn}{string.Concat(inputColumns.Select(c => ", " + Sql.Identifier(c)))} FROM {JoinedTable} ORDER BY {EntityTable.RowIdColumn}";
        using var reader = connection.QueryRows(query);
        using var appender = connection.CreateAppender(OnDemandTable);
        long done = 0;
        var lastReport = Environment.TickCount64;
        while (reader.Read())
        {
            appender.Append((long)reader.GetValue(0)!);
            for (var v = 0; v < plan.OnDemandViews.Count; v++)
            {
                var view = plan.OnDemandViews[v];
                var row = rows[v];
                row.Clear();
                foreach (var input in view.Inputs) row[input.Name] = ForTransform(reader.GetValue(ordinals[input.ColumnName]));
                try
                {
                    view.Transform.Transform(row);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throw new HistoricalRetrievalException($"transform '{view.View.Transform}' of on-demand feature view '{view.View.Name}' failed on entity row {reader.GetValue(0)}: {e.Message}");
                }
                foreach (var output in view.Outputs)
                {
                    if (!row.Contains(output.Feature))
                        throw new HistoricalRetrievalException($"transform '{view.View.Transform}' of on-demand feature view '{view.View.Name}' did not set output '{output.Feature}'");
                    AppendAs(appender, row[output.Feature], output);
                }
            }
            appender.EndRow();
            done++;
            if ((done & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (progress is not null && Environment.TickCount64 - lastReport >= 100)
                {
                    lastReport = Environment.TickCount64;
                    progress(new("on-demand transforms", entities.RowCount == 0 ? 100 : 100.0 * done / entities.RowCount, entities.RowCount, done));
                }
            }
        }
    }

    // Transforms see instants as DateTimeOffset (UTC), whatever the engine's timestamp flavour.
    private static object? ForTransform(object? value) => value is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : value;

    private static void AppendAs(DuckDbAppender appender, object? value, FeatureColumn output)
    {
        if (value is null)
        {
            appender.AppendNull();
            return;
        }
        try
        {
            switch (output.Type.Scalar)
            {
                case ScalarType.Int32: appender.Append(Convert.ToInt32(value, CultureInfo.InvariantCulture)); break;
                case ScalarType.Int64: appender.Append(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
                case ScalarType.Float32: appender.Append(Convert.ToSingle(value, CultureInfo.InvariantCulture)); break;
                case ScalarType.Float64: appender.Append(Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
                case ScalarType.Bool: appender.Append(Convert.ToBoolean(value, CultureInfo.InvariantCulture)); break;
                case ScalarType.String: appender.Append(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""); break;
                default: appender.AppendValue(value); break;
            }
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw new HistoricalRetrievalException($"on-demand feature '{output.Feature}' is declared {output.Type} but the transform set a {value.GetType().Name} ({value}): {e.Message}");
        }
    }
}
