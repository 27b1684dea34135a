using Granary.Definitions;
using Granary.Push;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Grains.Tests;

/// <summary>Core's conversion of pushed values: text parsed strictly as the declared type, typed values only when exact.</summary>
public sealed class PushValueTests
{
    private static object? Convert(object? raw, ValueType type)
    {
        Assert.True(PushValues.TryConvert(raw, type, out var value, out var problem), problem);
        return value;
    }

    private static string Refused(object? raw, ValueType type)
    {
        Assert.False(PushValues.TryConvert(raw, type, out _, out var problem));
        return problem!;
    }

    private static readonly ValueType Timestamp = new(ScalarType.UnixTimestamp);

    [Fact]
    public void Timestamps_without_an_offset_are_utc_and_offsets_are_honoured_at_any_position()
    {
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 8, 0, 0, TimeSpan.Zero), Convert("2024-01-01 08:00:00", Timestamp));
        Assert.Equal(new DateTimeOffset(2023, 12, 31, 23, 0, 0, TimeSpan.Zero), Convert("2024-01-01T08:00:00+09:00", Timestamp));
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 8, 0, 0, 123, TimeSpan.Zero).AddTicks(4567), Convert("2024-01-01T08:00:00.1234567Z", Timestamp));
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), Convert("2024-01-01", Timestamp));
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 8, 0, 0, TimeSpan.Zero), Convert(new DateTime(2024, 1, 1, 8, 0, 0, DateTimeKind.Unspecified), Timestamp));
        Assert.StartsWith("is not an ISO 8601 timestamp", Refused("01/02/2024", Timestamp));
        Assert.StartsWith("is not an ISO 8601 timestamp", Refused("1704096000", Timestamp));
    }

    [Fact]
    public void Numbers_are_parsed_in_invariant_culture_and_never_rounded_into_a_narrower_type()
    {
        Assert.Equal(42L, Convert("42", new ValueType(ScalarType.Int64)));
        Assert.Equal(-7, Convert("-7", new ValueType(ScalarType.Int32)));
        Assert.Equal("is not a whole number in range", Refused("3000000000", new ValueType(ScalarType.Int32)));
        Assert.Equal("is not a whole number in range", Refused("1.0", new ValueType(ScalarType.Int64)));
        Assert.Equal("is not a whole number in range", Refused(" 1", new ValueType(ScalarType.Int64)));
        Assert.Equal("is outside the Int32 range", Refused(3_000_000_000L, new ValueType(ScalarType.Int32)));
        Assert.Equal(0.1f, Convert("0.1", new ValueType(ScalarType.Float32)));
        Assert.Equal("is not a number (use '.' for decimals)", Refused("1e40", new ValueType(ScalarType.Float32)));
        Assert.Equal(2.0, Convert(2L, new ValueType(ScalarType.Float64)));
        Assert.Equal("is of type Int64, which does not convert exactly", Refused((1L << 53) + 1, new ValueType(ScalarType.Float64)));
        Assert.Equal("is of type Double, which does not convert exactly", Refused(0.1, new ValueType(ScalarType.Float32)));
        Assert.Equal("is of type Int64, not text", Refused(5L, new ValueType(ScalarType.String)));
    }

    [Fact]
    public void Booleans_bytes_and_lists_have_one_text_form_each()
    {
        Assert.Equal(true, Convert("TRUE", new ValueType(ScalarType.Bool)));
        Assert.Equal("is not true or false", Refused("1", new ValueType(ScalarType.Bool)));
        Assert.Equal(new byte[] { 1, 2 }, Convert("AQI=", new ValueType(ScalarType.Bytes)));
        Assert.Equal(new[] { 1L, 2L }, Convert("[1, 2]", new ValueType(ScalarType.Int64, IsList: true)));
        Assert.Equal(new[] { 0.5, 2.0 }, Convert(new object[] { 0.5, 2L }, new ValueType(ScalarType.Float64, IsList: true)));
        Assert.Equal("has a null element at index 1 (lists may not hold nulls)", Refused("[1, null]", new ValueType(ScalarType.Int64, IsList: true)));
        Assert.Equal("element 0 ('x') is not a whole number in range", Refused("[\"x\"]", new ValueType(ScalarType.Int64, IsList: true)));
        Assert.Null(Convert(null, new ValueType(ScalarType.Int64)));
    }
}
