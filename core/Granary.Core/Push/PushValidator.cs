using System.Globalization;
using Granary.Offline;
using Granary.Online;

namespace Granary.Push;

/// <summary>Rows pushed to a push source, as the producer sent them: column names and, per row, one raw value per column.</summary>
/// <remarks>Raw values are text (CSV, JSON scalars: parsed as the declared type) or typed CLR values (Parquet; converted only when exact).</remarks>
/// <param name="Columns">The column names, in row order.</param>
/// <param name="Rows">The rows; each holds one value per column.</param>
public sealed record PushBatch(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows);

/// <summary>One bad value of a rejected push batch.</summary>
/// <param name="Row">The row's number in the batch, counting from 1 (the first data row, whatever the file format).</param>
/// <param name="Column">The column.</param>
/// <param name="Value">The value as sent, shown for the message.</param>
/// <param name="Expected">The declared type, and who declares it.</param>
/// <param name="Problem">Why the value does not fit.</param>
public sealed record PushRowError(int Row, string Column, string Value, string Expected, string Problem)
{
    /// <inheritdoc/>
    public override string ToString() => $"row {Row}, column '{Column}': value {Value} {Problem}; expected {Expected}";
}

/// <summary>
/// A push batch that does not fit the push source's schema; nothing of it was written anywhere. <see cref="Errors"/> lists
/// each bad value (the first <see cref="PushValidator.MaxErrors"/>), with row, column, value and expected type.
/// </summary>
public sealed class PushValidationException : GranaryException
{
    /// <summary>A rejection of the batch for <paramref name="pushSource"/>, listing <paramref name="errors"/> (and how many more were not listed).</summary>
    public PushValidationException(string pushSource, IReadOnlyList<string> errors, int notListed = 0)
        : base(Format(pushSource, errors, notListed), "fix the listed values (or the definitions) and push the whole batch again; nothing of it was stored")
    {
        Keep("errors", errors.ToArray());
    }

    /// <summary>Each problem, one line each (kept when the error crosses silos).</summary>
    public IReadOnlyList<string> Errors => Kept<string[]>("errors", []);

    private static string Format(string pushSource, IReadOnlyList<string> errors, int notListed)
        => $"push to '{pushSource}' rejected: {errors.Count + notListed} problem{(errors.Count + notListed == 1 ? "" : "s")}; nothing was stored"
           + string.Concat(errors.Select(e => Environment.NewLine + "  " + e))
           + (notListed > 0 ? $"{Environment.NewLine}  ... and {notListed} more" : "");
}

/// <summary>A validated batch: every value typed as declared, ready for the online and offline stores.</summary>
public sealed class ValidatedPush
{
    internal ValidatedPush(PushPlan plan, object?[][] values, string?[]? eventIds)
    {
        Plan = plan;
        Values = values;
        EventIds = eventIds;
    }

    /// <summary>The plan the rows were validated against.</summary>
    public PushPlan Plan { get; }
    /// <summary>Per row, one typed value per <see cref="PushPlan.Columns"/> entry.</summary>
    public IReadOnlyList<object?[]> Values { get; }
    /// <summary>Per row, its event id; null when the batch has no event-id column (then nothing is deduplicated).</summary>
    public IReadOnlyList<string?>? EventIds { get; }
    /// <summary>How many rows the batch holds.</summary>
    public int RowCount => Values.Count;

    /// <summary>The entity key of row <paramref name="row"/> for <paramref name="target"/>.</summary>
    public EntityKey EntityOf(int row, PushTarget target)
    {
        var parts = new KeyValuePair<string, string>[target.JoinKeys.Count];
        for (var k = 0; k < parts.Length; k++)
            parts[k] = new(target.JoinKeys[k].Name, EntityKey.FormatValue(target.JoinKeys[k].Name, Values[row][target.JoinKeys[k].Column]!));
        return EntityKey.Create(Plan.Project, parts);
    }

    /// <summary>Row <paramref name="row"/> as the online row of <paramref name="target"/>'s view.</summary>
    public OnlineRow OnlineRowOf(int row, PushTarget target)
    {
        var values = Values[row];
        var features = new Dictionary<string, object?>(target.Features.Count, StringComparer.Ordinal);
        foreach (var (name, column) in target.Features) features[name] = values[column];
        var created = Plan.CreatedTimestampColumn >= 0 ? (DateTimeOffset?)values[Plan.CreatedTimestampColumn] : null;
        return new OnlineRow(EntityOf(row, target), target.View.Name, (DateTimeOffset)values[Plan.EventTimestampColumn]!, created, features);
    }

    /// <summary>The rows numbered <paramref name="rows"/> (indexes into <see cref="Values"/>) as an append to the batch source.</summary>
    public OfflineRowBatch OfflineRows(IReadOnlyList<int> rows)
    {
        var columns = Plan.OfflineColumns();
        var result = new object?[rows.Count][];
        for (var r = 0; r < rows.Count; r++)
        {
            var source = Values[rows[r]];
            var row = new object?[columns.Count];
            for (var c = 0; c < columns.Count; c++) row[c] = columns[c].From < 0 ? null : source[columns[c].From];
            result[r] = row;
        }
        return new OfflineRowBatch(columns.Select(c => c.Column).ToList(), result);
    }
}

/// <summary>
/// Checks pushed rows against a <see cref="PushPlan"/>: every column the views need is present and no unknown column is,
/// every value has its declared type (never guessed from the data), join keys and the event timestamp are not null, and
/// event ids (when the batch carries the event-id column) are non-empty. Pure: no I/O.
/// </summary>
public static class PushValidator
{
    /// <summary>How many bad values a rejection lists; the rest are counted.</summary>
    public const int MaxErrors = 50;

    /// <summary>Validates <paramref name="batch"/>; returns it typed, or throws listing every problem found.</summary>
    /// <param name="plan">The push source's schema.</param>
    /// <param name="batch">The rows as sent.</param>
    /// <param name="eventIdColumn">The column holding event ids for deduplication (e.g. <c>event_id</c>); optional in a batch.</param>
    /// <exception cref="PushValidationException">A column is missing, unknown or repeated, or a value does not fit.</exception>
    public static ValidatedPush Validate(PushPlan plan, PushBatch batch, string eventIdColumn)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(batch);
        var source = plan.Source.Name;
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        var headerErrors = new List<string>();
        for (var i = 0; i < batch.Columns.Count; i++)
        {
            if (!positions.TryAdd(batch.Columns[i], i))
                headerErrors.Add($"column '{batch.Columns[i]}' appears twice");
        }
        var known = plan.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in batch.Columns)
        {
            if (!known.Contains(name) && name != eventIdColumn)
                headerErrors.Add($"column '{name}' is not in the schema of push source '{source}'; expected columns: {Expected(plan, eventIdColumn)}");
        }
        var missing = plan.Columns.Where(c => !positions.ContainsKey(c.Name)).Select(c => $"'{c.Name}' ({c.Type}, {c.DeclaredBy})").ToList();
        if (missing.Count > 0)
            headerErrors.Add($"missing column{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing)}; the batch has: {string.Join(", ", batch.Columns.DefaultIfEmpty("(no columns)"))}");
        if (headerErrors.Count > 0) throw new PushValidationException(source, headerErrors);

        var from = plan.Columns.Select(c => positions[c.Name]).ToArray();
        var eventIdAt = positions.TryGetValue(eventIdColumn, out var e) ? e : -1;
        var errors = new List<string>();
        var notListed = 0;
        void Fail(int row, string column, object? raw, string expected, string problem)
        {
            if (errors.Count < MaxErrors) errors.Add(new PushRowError(row + 1, column, PushValues.Show(raw), expected, problem).ToString());
            else notListed++;
        }

        var values = new object?[batch.Rows.Count][];
        var eventIds = eventIdAt < 0 ? null : new string?[batch.Rows.Count];
        for (var r = 0; r < batch.Rows.Count; r++)
        {
            var raw = batch.Rows[r];
            if (raw.Length != batch.Columns.Count)
            {
                Fail(r, "(row)", $"{raw.Length} values", $"{batch.Columns.Count} values, one per column", "has the wrong number of values");
                continue;
            }
            var typed = new object?[plan.Columns.Count];
            for (var c = 0; c < typed.Length; c++)
            {
                var column = plan.Columns[c];
                var value = raw[from[c]];
                if (!PushValues.TryConvert(value, column.Type, out typed[c], out var problem))
                    Fail(r, column.Name, value, $"{column.Type} ({column.DeclaredBy})", problem!);
                else if (typed[c] is null && column.Role is PushColumnRole.JoinKey or PushColumnRole.EventTimestamp)
                    Fail(r, column.Name, value, $"{column.Type} ({column.DeclaredBy})", column.Role == PushColumnRole.JoinKey ? "is empty; a join key needs a value" : "is empty; every row needs an event timestamp");
            }
            values[r] = typed;
            if (eventIds is not null)
            {
                var id = raw[eventIdAt] switch
                {
                    string s => s,
                    long or int or short or byte or sbyte or ushort or uint or ulong => Convert.ToString(raw[eventIdAt], CultureInfo.InvariantCulture),
                    _ => null,
                };
                if (string.IsNullOrEmpty(id))
                    Fail(r, eventIdColumn, raw[eventIdAt], "non-empty text or a whole number (the event id)", "is not an event id");
                eventIds[r] = id;
            }
        }
        if (errors.Count > 0) throw new PushValidationException(source, errors, notListed);
        return new ValidatedPush(plan, values, eventIds);
    }

    private static string Expected(PushPlan plan, string eventIdColumn)
        => string.Join(", ", plan.Columns.Select(c => $"{c.Name} ({c.Type})")) + $", and optionally {eventIdColumn} (event id)";
}
