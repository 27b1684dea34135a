using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Offline;

/// <summary>A typed column of rows appended to a batch source: its stored name (field mapping already applied) and value type.</summary>
/// <param name="Name">The column name as the source stores it.</param>
/// <param name="Type">The value type; values are the CLR types of <see cref="Online.OnlineValueTypes.ClrTypeOf"/>.</param>
public sealed record OfflineColumn(string Name, ValueType Type);

/// <summary>
/// Rows to append to a batch source in one all-or-nothing step (see <see cref="IOfflineStore.AppendRowsAsync"/>): every
/// row holds one value per column, in column order, typed as the column says (null allowed).
/// </summary>
public sealed record OfflineRowBatch(IReadOnlyList<OfflineColumn> Columns, IReadOnlyList<object?[]> Rows)
{
    /// <summary>
    /// Leave out rows equal in every column to a row the source already holds: the retry of a push that took over from an
    /// attempt which may have appended them before it stopped (<see cref="Online.EventIdClaim.TakenOver"/>). Costs a read
    /// of the source's columns, so it is asked for only then. Equal rows carry the same facts, so none is lost.
    /// </summary>
    public bool SkipStoredCopies { get; init; }

    /// <summary>Throws when a row's width differs from the column count (a caller's bug, not bad user input).</summary>
    public void CheckShape()
    {
        for (var r = 0; r < Rows.Count; r++)
            if (Rows[r].Length != Columns.Count)
                throw new ArgumentException($"row {r} has {Rows[r].Length} values for {Columns.Count} columns");
    }
}

/// <summary>An append to a batch source that cannot be done (a query source, a column the table lacks); nothing was written.</summary>
public sealed class OfflineAppendException(string message, string? hint = null) : GranaryException(message, hint);
