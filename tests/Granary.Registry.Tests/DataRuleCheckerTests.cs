using System.Text.RegularExpressions;
using Granary.Definitions;
using Granary.Quality;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Registry.Tests;

/// <summary>
/// The one checker every write path uses, against a naive reference written from the rules' definitions (no compiled
/// sets or spans), on randomized rows with boundary values, nulls and NaN; and the gate's judgement on tallies.
/// </summary>
public sealed class DataRuleCheckerTests
{
    private static readonly FeatureView View = new()
    {
        Name = "payments",
        Source = "payments_source",
        Features =
        [
            new Field("amount", new ValueType(ScalarType.Float64)) { Rules =
            [
                new DataRule { Check = DataRuleCheck.NotNull, OnBreak = DataRuleOutcome.Reject },
                new DataRule { Check = DataRuleCheck.Min, Bound = 0, OnBreak = DataRuleOutcome.Reject },
                new DataRule { Check = DataRuleCheck.Max, Bound = 10_000, OnBreak = DataRuleOutcome.Quarantine },
            ] },
            new Field("score", new ValueType(ScalarType.Float32)) { Rules =
            [
                new DataRule { Check = DataRuleCheck.Min, Bound = 0, OnBreak = DataRuleOutcome.Quarantine },
                new DataRule { Check = DataRuleCheck.Max, Bound = 1, OnBreak = DataRuleOutcome.Quarantine },
            ] },
            new Field("country", new ValueType(ScalarType.String)) { Rules =
            [
                new DataRule { Check = DataRuleCheck.Pattern, Pattern = "[A-Z]{2}", OnBreak = DataRuleOutcome.Warn },
                new DataRule { Check = DataRuleCheck.Allowed, Allowed = ["DE", "FR", "NL", "de"], OnBreak = DataRuleOutcome.Warn },
            ] },
            new Field("tier", new ValueType(ScalarType.Int32)) { Rules = [new DataRule { Check = DataRuleCheck.Allowed, Allowed = ["1", "2", "3"], OnBreak = DataRuleOutcome.Quarantine }] },
            new Field("count", new ValueType(ScalarType.Int64)) { Rules = [new DataRule { Check = DataRuleCheck.Max, Bound = 100, OnBreak = DataRuleOutcome.Warn }] },
            new Field("flag", new ValueType(ScalarType.Bool)) { Rules = [new DataRule { Check = DataRuleCheck.Allowed, Allowed = ["true"], OnBreak = DataRuleOutcome.Warn }] },
            new Field("note", new ValueType(ScalarType.String)),
        ],
    };

    [Fact]
    public void The_checker_agrees_with_a_naive_reference_on_100000_random_rows()
    {
        var checker = DataRuleChecker.For(View);
        var random = new Random(20261207);
        // The row carries extra columns around the features, in another order, as a push row does.
        int[] columns = [6, 1, 3, 0, 5, 2, 4];
        var broken = new int[checker.RuleCount];
        var tally = new DataRuleTally(checker.RuleCount, View.Features.Count);
        var expectedBreaks = new long[checker.RuleCount];
        long expectedRejected = 0, expectedQuarantined = 0, expectedWarned = 0;
        for (var i = 0; i < 100_000; i++)
        {
            var features = RandomRow(random);
            var row = new object?[8];
            for (var f = 0; f < features.Length; f++) row[columns[f]] = features[f];
            row[7] = "ignored";
            var outcome = tally.Count(checker, row, columns, broken, out var count);

            var expected = Reference(features);
            Assert.Equal(expected.Select(r => r.Name), broken.Take(count).Select(checker.NameOf));
            var strictest = expected.Count == 0 ? (DataRuleOutcome?)null : expected.Max(r => r.Outcome);
            Assert.Equal(strictest, outcome);
            foreach (var r in expected) expectedBreaks[Array.IndexOf(RuleNames, r.Name)]++;
            if (strictest == DataRuleOutcome.Reject) expectedRejected++;
            else if (strictest == DataRuleOutcome.Quarantine) expectedQuarantined++;
            else if (strictest == DataRuleOutcome.Warn) expectedWarned++;
        }
        Assert.Equal(RuleNames, Enumerable.Range(0, checker.RuleCount).Select(checker.NameOf));
        Assert.Equal(expectedBreaks, tally.Breaks);
        Assert.Equal((100_000L, expectedRejected, expectedQuarantined, expectedWarned), (tally.Rows, tally.Rejected, tally.Quarantined, tally.Warned));
        // Every outcome and every rule occurs, so the comparison covered each branch.
        Assert.All(tally.Breaks, b => Assert.True(b > 100, $"a rule broke only {b} times"));
    }

    [Fact]
    public void The_gate_fails_on_rejected_share_and_on_completeness_and_names_the_feature()
    {
        var view = View with { QualityGate = new QualityGate { Completeness = 0.9, MaxRejectedShare = 0.05 } };
        var checker = DataRuleChecker.For(view);
        int[] columns = [0, 1, 2, 3, 4, 5, 6];
        var broken = new int[checker.RuleCount];
        var at = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

        var tally = new DataRuleTally(checker.RuleCount, 7);
        for (var i = 0; i < 100; i++) tally.Count(checker, Good(note: "n"), columns, broken, out _);
        for (var i = 0; i < 6; i++) tally.Count(checker, Good(amount: -1.0, note: "n"), columns, broken, out _);
        var rejected = tally.Judge(view, at);
        Assert.False(rejected.Passed);
        Assert.Equal("6 of 106 rows (5.66 %) break a reject rule; the view's quality_gate allows 5 % (max_rejected_share)", rejected.Reason);

        tally = new DataRuleTally(checker.RuleCount, 7);
        for (var i = 0; i < 88; i++) tally.Count(checker, Good(note: "n"), columns, broken, out _);
        for (var i = 0; i < 12; i++) tally.Count(checker, Good(note: null), columns, broken, out _);
        var incomplete = tally.Judge(view, at);
        Assert.Equal((false, 0.88, "note"), (incomplete.Passed, incomplete.Completeness, incomplete.LeastCompleteFeature));
        Assert.Equal("feature 'note' is 88 % complete (non-null) over the 100 rows to write; the view's quality_gate needs 90 % (completeness)", incomplete.Reason);

        // 20 more complete rows: 108 of 120 non-null is exactly the 90 % asked for, which passes.
        for (var i = 0; i < 20; i++) tally.Count(checker, Good(note: "n"), columns, broken, out _);
        var passed = tally.Judge(view, at);
        Assert.Equal((true, null), (passed.Passed, passed.Reason));
    }

    private static object?[] Good(double? amount = 10.0, string? note = "n")
        => [amount, 0.5f, "DE", 2, 5L, true, note];

    private static readonly string[] RuleNames =
        ["amount.not_null", "amount.min", "amount.max", "score.min", "score.max", "country.pattern", "country.allowed", "tier.allowed", "count.max", "flag.allowed"];

    // The rules as their definitions say, written out one by one.
    private static List<(string Name, DataRuleOutcome Outcome)> Reference(object?[] f)
    {
        var result = new List<(string, DataRuleOutcome)>();
        var amount = (double?)f[0];
        if (amount is null) result.Add(("amount.not_null", DataRuleOutcome.Reject));
        if (amount is { } a && !(a >= 0)) result.Add(("amount.min", DataRuleOutcome.Reject));
        if (amount is { } b && !(b <= 10_000)) result.Add(("amount.max", DataRuleOutcome.Quarantine));
        var score = (float?)f[1];
        if (score is { } s && !(s >= 0)) result.Add(("score.min", DataRuleOutcome.Quarantine));
        if (score is { } t && !(t <= 1)) result.Add(("score.max", DataRuleOutcome.Quarantine));
        var country = (string?)f[2];
        if (country is not null && !Regex.IsMatch(country, "^[A-Z]{2}$")) result.Add(("country.pattern", DataRuleOutcome.Warn));
        if (country is not null && country is not ("DE" or "FR" or "NL" or "de")) result.Add(("country.allowed", DataRuleOutcome.Warn));
        if (f[3] is int tier && tier is not (1 or 2 or 3)) result.Add(("tier.allowed", DataRuleOutcome.Quarantine));
        if (f[4] is long count && count > 100) result.Add(("count.max", DataRuleOutcome.Warn));
        if (f[5] is bool flag && !flag) result.Add(("flag.allowed", DataRuleOutcome.Warn));
        return result;
    }

    private static object?[] RandomRow(Random random)
    {
        object? Pick(params object?[] choices) => choices[random.Next(choices.Length)];
        double? amount = random.Next(20) switch
        {
            0 => null,
            1 => -0.01,
            2 => 0.0,
            3 => 10_000.0,
            4 => 10_000.000001,
            5 => double.NaN,
            _ => random.NextDouble() * 12_000 - 500,
        };
        float? score = random.Next(10) switch { 0 => null, 1 => 1.0000001f, 2 => -0f, 3 => float.NaN, _ => (float)(random.NextDouble() * 1.3 - 0.1) };
        return
        [
            amount, score,
            Pick(null, "DE", "FR", "de", "NL", "XX", "D", "DEU", "fr", "D1"),
            Pick(null, 0, 1, 2, 3, 4, -1),
            Pick(null, 0L, 100L, 101L, long.MaxValue, -5L),
            Pick(null, true, false),
            Pick(null, "anything"),
        ];
    }
}
