using System.Globalization;
using Granary.Definitions;
using Granary.Offline;

namespace Granary.Offline;

/// <summary>Turns inline entity columns (text values) into an <see cref="EntityDataFrame"/> of typed rows.</summary>
public static class InlineEntities
{
    /// <summary>Parses every value by its column's type; throws naming the column, row and value that do not parse.</summary>
    public static EntityDataFrame ToDataFrame(IReadOnlyList<InlineEntityColumn> columns)
    {
        if (columns.Count == 0) throw new HistoricalRetrievalException("the inline entity dataframe has no columns");
        var rowCount = columns[0].Values.Count;
        foreach (var column in columns)
        {
            if (column.Values.Count != rowCount)
                throw new HistoricalRetrievalException($"inline entity column '{column.Name}' has {column.Values.Count} values but '{columns[0].Name}' has {rowCount}");
        }
        var rows = new List<IReadOnlyList<object?>>(rowCount);
        for (var r = 0; r < rowCount; r++)
        {
            var row = new object?[columns.Count];
            for (var c = 0; c < columns.Count; c++) row[c] = Parse(columns[c], r);
            rows.Add(row);
        }
        return EntityDataFrame.FromRows(columns.Select(c => c.Name).ToList(), rows);
    }

    private static object? Parse(InlineEntityColumn column, int row)
    {
        var text = column.Values[row];
        if (text is null) return null;
        var invariant = CultureInfo.InvariantCulture;
        object? value = column.Type switch
        {
            ScalarType.Int32 or ScalarType.Int64 => long.TryParse(text, NumberStyles.Integer, invariant, out var l) ? l : null,
            ScalarType.Float32 or ScalarType.Float64 => double.TryParse(text, NumberStyles.Float, invariant, out var d) ? d : null,
            ScalarType.Bool => bool.TryParse(text, out var b) ? b : null,
            ScalarType.String => text,
            ScalarType.Bytes => Convert.FromBase64String(text),
            ScalarType.UnixTimestamp => ParseTime(text),
            _ => null,
        };
        return value ?? throw new HistoricalRetrievalException($"inline entity column '{column.Name}' row {row}: '{text}' is not a valid {column.Type}");
    }

    // ISO 8601 only (IsoTime): with an offset (or Z) an instant, without one naive and taken as UTC.
    private static object? ParseTime(string text) => IsoTime.TryParse(text, out var t) ? t : null;
}

/// <summary>One inline entity column: its name, type and values as invariant text (ISO 8601 for timestamps; null for NULL).</summary>
public sealed record InlineEntityColumn
{
    /// <summary>The column name.</summary>
    public string Name { get; init; } = "";
    /// <summary>The value type; timestamps may carry an offset (converted to UTC) or none (taken as UTC).</summary>
    public ScalarType Type { get; init; } = ScalarType.String;
    /// <summary>The values, one per row.</summary>
    public IReadOnlyList<string?> Values { get; init; } = [];
}
