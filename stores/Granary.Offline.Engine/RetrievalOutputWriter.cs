using System.Globalization;
using System.Text;
using Granary.Definitions;
using Granary.Offline;

namespace Granary.Offline.Engine;

/// <summary>
/// Writes a joined result to the output file with DuckDB's COPY (Parquet or CSV), applying on-demand views on the way:
/// their inputs are streamed chunk by chunk through the compiled transforms and the outputs appended (through a second
/// connection) to a staging table, so no step holds the whole result in .NET memory, whatever the number of rows.
/// </summary>
public static class RetrievalOutputWriter
{
    /// <summary>
    /// Writes the result of <paramref name="joinQuery"/> (a SELECT with internal columns when the plan has on-demand views,
    /// without otherwise) or, when it is null, of the already filled <see cref="RetrievalWorkspace.JoinedTable"/>.
    /// Returns the rows written.
    /// </summary>
    public static long Write(RetrievalWorkspace workspace, HistoricalRetrievalPlan plan, EntityTable entities, string? joinQuery,
        string outputPath, Action<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var connection = workspace.Connection;
        var copyOptions = OutputFiles.FormatOf(outputPath) == OutputFormat.Csv ? "(FORMAT csv, HEADER true)" : "(FORMAT parquet, COMPRESSION snappy)";
        var target = Sql.Literal(Path.GetFullPath(outputPath));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);

        if (plan.OnDemandViews.Count == 0 && joinQuery is not null)
            return connection.ExecuteWithProgress($"COPY (\n{joinQuery}\n) TO {target} {copyOptions}", p => progress?.Invoke(new("joining", p, entities.RowCount, 0)), cancellationToken);

        if (joinQuery is not null)
            connection.ExecuteWithProgress($"CREATE OR REPLACE TEMP TABLE {workspace.JoinedTable} AS\n{joinQuery}", p => progress?.Invoke(new("joining", p, entities.RowCount, 0)), cancellationToken);

        var select = new StringBuilder("SELECT ");
        select.Append(string.Join(", ", entities.Columns.Select(c => "j." + Sql.Identifier(c.Name))));
        var onDemandColumns = plan.OnDemandViews.SelectMany(v => v.Outputs).Select(o => o.ColumnName).ToHashSet(StringComparer.Ordinal);
        foreach (var column in plan.OutputColumns)
            select.Append(", ").Append(onDemandColumns.Contains(column) ? "o." : "j.").Append(Sql.Identifier(column));
        select.Append($"\nFROM {workspace.JoinedTable} j");
        if (plan.OnDemandViews.Count > 0)
        {
            ApplyOnDemandViews(workspace, plan, entities, progress, cancellationToken);
            select.Append($"\nJOIN {workspace.OnDemandTable} o USING ({EntityTable.RowIdColumn})");
        }
        select.Append($"\nORDER BY j.{EntityTable.RowIdColumn}");
        return connection.ExecuteWithProgress($"COPY (\n{select}\n) TO {target} {copyOptions}", p => progress?.Invoke(new("writing", p, entities.RowCount, 0)), cancellationToken);
    }

    private static void ApplyOnDemandViews(RetrievalWorkspace workspace, HistoricalRetrievalPlan plan, EntityTable entities,
        Action<HistoricalRetrievalProgress>? progress, CancellationToken cancellationToken)
    {
        var outputs = plan.OnDemandViews.SelectMany(v => v.Outputs).ToList();
        foreach (var output in outputs)
        {
            if (output.Type.IsList)
                throw new HistoricalRetrievalException($"on-demand feature '{output.Feature}' is a list ({output.Type}); offline retrieval supports scalar on-demand outputs only");
        }
        foreach (var input in plan.OnDemandViews.SelectMany(v => v.Inputs.Where(i => i.FromEntityDataFrame).Select(i => (v, i))))
        {
            if (!entities.Has(input.i.ColumnName))
                throw new HistoricalRetrievalException($"on-demand feature view '{input.v.View.Name}' needs request field '{input.i.Name}', which is not a column of the entity dataframe (columns: {entities.ColumnList})");
        }
        var definition = string.Join(", ", outputs.Select(o => $"{Sql.Identifier(o.ColumnName)} {DuckDbTypeMap.SqlTypeOf(o.Type)}"));
        workspace.Connection.Execute($"CREATE OR REPLACE TABLE {workspace.OnDemandTable} ({EntityTable.RowIdColumn} BIGINT, {definition})");

        // One query reads every input column once; each view gets its own reusable TransformRow. The rows come in any
        // order (the final COPY orders by row id), so DuckDB need not sort them first.
        var inputColumns = plan.OnDemandViews.SelectMany(v => v.Inputs).Select(i => i.ColumnName).Distinct(StringComparer.Ordinal).ToList();
        var ordinals = inputColumns.Select((c, i) => (c, i + 1)).ToDictionary(x => x.c, x => x.Item2, StringComparer.Ordinal);
        var rows = plan.OnDemandViews.Select(_ => new TransformRow()).ToArray();
        var query = $"SELECT {EntityTable.RowIdColumn}{string.Concat(inputColumns.Select(c => ", " + Sql.Identifier(c)))} FROM {workspace.JoinedTable}";
        using var reader = workspace.Connection.QueryRows(query);
        using var writer = workspace.OpenWriter();
        using var appender = writer.CreateAppender(workspace.OnDemandTable);
        long done = 0;
        var lastReport = Environment.TickCount64;
        while (reader.Read())
        {
            var rowId = (long)reader.GetValue(0)!;
            var appended = appender.CreateRow();
            appended.AppendValue(rowId);
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
                    throw new HistoricalRetrievalException($"transform '{view.View.Transform}' of on-demand feature view '{view.View.Name}' failed on entity row {rowId}: {e.Message}");
                }
                foreach (var output in view.Outputs)
                {
                    if (!row.Contains(output.Feature))
                        throw new HistoricalRetrievalException($"transform '{view.View.Transform}' of on-demand feature view '{view.View.Name}' did not set output '{output.Feature}'");
                    DuckDbTypeMap.Append(appended, Convert(row[output.Feature], output));
                }
            }
            appended.EndRow();
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

    /// <summary>A transform's output converted to the declared type of the column it is appended to.</summary>
    private static object? Convert(object? value, FeatureColumn output)
    {
        if (value is null) return null;
        try
        {
            var invariant = CultureInfo.InvariantCulture;
            return output.Type.Scalar switch
            {
                ScalarType.Int32 => System.Convert.ToInt32(value, invariant),
                ScalarType.Int64 => System.Convert.ToInt64(value, invariant),
                ScalarType.Float32 => System.Convert.ToSingle(value, invariant),
                ScalarType.Float64 => System.Convert.ToDouble(value, invariant),
                ScalarType.Bool => System.Convert.ToBoolean(value, invariant),
                ScalarType.String => System.Convert.ToString(value, invariant) ?? "",
                _ => value,
            };
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw new HistoricalRetrievalException($"on-demand feature '{output.Feature}' is declared {output.Type} but the transform set a {value.GetType().Name} ({value}): {e.Message}");
        }
    }
}
