using Xunit;

namespace Granary.Offline.Tests;

internal static class ResultAssert
{
    /// <summary>Compares row by row; times compare as instants (naive = UTC), everything else by value.</summary>
    public static void SameRows(IReadOnlyList<string> expectedColumns, List<object?[]> expected, IReadOnlyList<string> actualColumns, List<object?[]> actual)
    {
        Assert.Equal(expectedColumns, actualColumns);
        Assert.Equal(expected.Count, actual.Count);
        for (var r = 0; r < expected.Count; r++)
        {
            for (var c = 0; c < expectedColumns.Count; c++)
            {
                var e = Normalize(expected[r][c]);
                var a = Normalize(actual[r][c]);
                if (!Equals(e, a))
                    Assert.Fail($"row {r}, column '{expectedColumns[c]}': expected {e ?? "NULL"}, got {a ?? "NULL"}; expected row: {Describe(expected[r])}; actual row: {Describe(actual[r])}");
            }
        }
    }

    private static object? Normalize(object? value) => value switch
    {
        DateTime or DateTimeOffset => PointInTimeScenario.Instant(value),
        int i => (long)i,
        float f => (double)f,
        _ => value,
    };

    private static string Describe(object?[] row) => string.Join(" | ", row.Select(v => Normalize(v)?.ToString() ?? "NULL"));
}
