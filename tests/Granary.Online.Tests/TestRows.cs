using Granary.Definitions;
using Granary.Online;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Online.Tests;

/// <summary>Rows, views and value comparisons shared by the online tests.</summary>
internal static class TestRows
{
    public const string Project = "rides";
    public static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public static EntityKey Driver(long id) => EntityKey.Create(Project, "driver_id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A row of view <paramref name="view"/> with one Int64 feature <c>trips</c>.</summary>
    public static OnlineRow Trips(EntityKey entity, DateTimeOffset eventTs, long trips, DateTimeOffset? created = null, string view = "driver_stats")
        => new(entity, view, eventTs, created, new Dictionary<string, object?> { ["trips"] = trips });

    /// <summary>One feature per value type, scalar and list, plus two for null.</summary>
    public static FeatureView EveryTypeView()
    {
        var fields = new List<Field>();
        foreach (var scalar in Enum.GetValues<ScalarType>())
        {
            fields.Add(new Field($"f_{scalar}", new ValueType(scalar)));
            fields.Add(new Field($"l_{scalar}", new ValueType(scalar, IsList: true)));
        }
        fields.Add(new Field("null_int", new ValueType(ScalarType.Int64)));
        fields.Add(new Field("null_list", new ValueType(ScalarType.String, IsList: true)));
        fields.Add(new Field("never_written", new ValueType(ScalarType.Float64)));
        return new FeatureView { Name = "every_type", Features = fields, Source = "src", Entities = ["driver"] };
    }

    /// <summary>Boundary values of every type (everything but <c>never_written</c>, which stays missing).</summary>
    public static Dictionary<string, object?> EveryTypeValues() => new()
    {
        ["f_Int32"] = int.MinValue,
        ["l_Int32"] = new[] { int.MinValue, -1, 0, 1, int.MaxValue },
        ["f_Int64"] = long.MaxValue,
        ["l_Int64"] = new[] { long.MinValue, 0L, long.MaxValue },
        ["f_Float32"] = -0.0f,
        ["l_Float32"] = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, 1.1f, float.MaxValue },
        ["f_Float64"] = double.Epsilon,
        ["l_Float64"] = new[] { double.NaN, -0.0, 0.1 + 0.2, double.MinValue, double.MaxValue },
        ["f_String"] = "ünï©ødé ✓ 𝄞 \"quoted\" ; = { } \n\t",
        ["l_String"] = new[] { "", "a", "日本語", new string('x', 70_000) },
        ["f_Bool"] = true,
        ["l_Bool"] = new[] { true, false, false },
        ["f_Bytes"] = Array.Empty<byte>(),
        ["l_Bytes"] = new[] { new byte[] { 0, 255, 128, 1 }, Array.Empty<byte>(), Enumerable.Range(0, 300).Select(i => (byte)i).ToArray() },
        ["f_UnixTimestamp"] = new DateTimeOffset(1969, 7, 20, 20, 17, 40, TimeSpan.Zero).AddTicks(1230), // before the epoch, whole microseconds
        ["l_UnixTimestamp"] = new[]
        {
            DateTimeOffset.UnixEpoch,
            new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.FromHours(9)).AddTicks(9_999_990), // an offset: read back as the same instant in UTC
            OnlineTime.Truncate(DateTimeOffset.MaxValue),
            DateTimeOffset.MinValue,
        },
        ["null_int"] = null,
        ["null_list"] = null,
    };

    /// <summary>Asserts two value maps are equal exactly: same names, same types, same values (floats by their bits; timestamps as instants in UTC).</summary>
    public static void AssertSameValues(IReadOnlyDictionary<string, object?> expected, IReadOnlyDictionary<string, object?> actual)
    {
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, value) in expected)
        {
            var got = actual[name];
            if (value is null) { Assert.True(got is null, $"{name}: expected null, got {got}"); continue; }
            Assert.NotNull(got);
            Assert.True(value.GetType() == got.GetType(), $"{name}: expected {value.GetType()}, got {got.GetType()}");
            if (value is Array a)
            {
                var b = (Array)got;
                Assert.Equal(a.Length, b.Length);
                for (var i = 0; i < a.Length; i++) AssertSameScalar($"{name}[{i}]", a.GetValue(i)!, b.GetValue(i)!);
            }
            else AssertSameScalar(name, value, got);
        }
    }

    private static void AssertSameScalar(string name, object expected, object actual)
    {
        switch (expected)
        {
            case float f: Assert.True(BitConverter.SingleToInt32Bits(f) == BitConverter.SingleToInt32Bits((float)actual), $"{name}: {f} != {actual}"); break;
            case double d: Assert.True(BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits((double)actual), $"{name}: {d} != {actual}"); break;
            case byte[] bytes: Assert.Equal(bytes, (byte[])actual); break;
            case DateTimeOffset t:
                var got = (DateTimeOffset)actual;
                Assert.Equal(TimeSpan.Zero, got.Offset);
                Assert.True(t.UtcTicks == got.UtcTicks, $"{name}: {t:O} != {got:O}");
                break;
            default: Assert.Equal(expected, actual); break;
        }
    }
}

/// <summary>Polls a condition until it holds or a generous bound passes (for server-side expiry).</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{what} did not happen within {(within ?? TimeSpan.FromSeconds(60)).TotalSeconds} s");
            await Task.Delay(100);
        }
    }
}
