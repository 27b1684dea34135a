using Granary.Definitions;
using Granary.Online;
using ValueType = Granary.Definitions.ValueType;
using static Granary.Online.Tests.TestRows;

namespace Granary.Online.Tests;

/// <summary>Entity keys, the row codec and the schema check, without a store.</summary>
public sealed class OnlineModelTests
{
    [Fact]
    public void An_entity_key_sorts_its_join_keys_and_parses_back()
    {
        var key = EntityKey.Create("rides", [new("region", "eu"), new("driver_id", "1001")]);
        Assert.Equal("rides/driver_id=1001;region=eu", key.Canonical);
        Assert.Equal(key, EntityKey.Parse("rides/region=eu;driver_id=1001"));
        Assert.Equal("rides", key.Project);
        Assert.Equal("eu", key.ValueOf("region"));
        Assert.Null(key.ValueOf("city"));
        Assert.Equal("rides/active=true;driver_id=-7", EntityKey.FromValues("rides", [new("driver_id", -7L), new("active", true)]).Canonical);
        Assert.Equal("p/email=a.b@c.d", EntityKey.Parse("p/email=a.b@c.d").Canonical);
    }

    [Theory]
    [InlineData("driver_id=1", "has no project")]
    [InlineData("/driver_id=1", "has no project")]
    [InlineData("rides/", "'' is not <join key>=<value>")]
    [InlineData("rides/driver_id", "'driver_id' is not <join key>=<value>")]
    [InlineData("rides/driver_id=", "join key 'driver_id' has an empty value")]
    [InlineData("rides/driver_id=1;driver_id=2", "names join key 'driver_id' twice")]
    [InlineData("rides/driver id=1", "join key 'driver id' is not a valid name")]
    [InlineData("rides/=1", "join key '' is not a valid name")]
    [InlineData("ri des/driver_id=1", "project 'ri des' is not a valid project name")]
    [InlineData("rides/driver_id=a=b", "value 'a=b' of join key 'driver_id' contains '='")]
    [InlineData("rides/driver_id={1}", "value '{1}' of join key 'driver_id' contains '{'")]
    [InlineData("rides/driver_id=1\n", "contains control character U+000A")]
    public void A_malformed_entity_key_is_refused_naming_the_offending_part(string text, string expected)
    {
        var error = Assert.Throws<InvalidEntityKeyException>(() => EntityKey.Parse(text));
        Assert.Contains(expected, error.Message);
        Assert.NotNull(error.Hint);
        Assert.False(EntityKey.TryParse(text, out _));
    }

    [Fact]
    public void A_join_key_value_of_another_type_is_refused()
    {
        var error = Assert.Throws<InvalidEntityKeyException>(() => EntityKey.FromValues("rides", [new("driver_id", 1.5)]));
        Assert.Contains("join key 'driver_id' has value '1.5' (Double)", error.Message);
    }

    [Fact]
    public void The_codec_round_trips_every_type_and_starts_with_its_version()
    {
        var row = new OnlineRow(Driver(1), "every_type", T0, null, EveryTypeValues());
        var bytes = OnlineRowCodec.Encode(row);
        Assert.Equal(OnlineRowCodec.Version, bytes[0]);
        var back = OnlineRowCodec.Decode(Driver(1), "every_type", bytes);
        AssertSameValues(row.Values, back.Values);
        Assert.Equal(T0, back.EventTimestamp);
        Assert.Null(back.CreatedTimestamp);
    }

    [Fact]
    public void The_codec_refuses_unknown_versions_and_truncated_bytes()
    {
        var bytes = OnlineRowCodec.Encode(Trips(Driver(1), T0, 5));
        var future = (byte[])bytes.Clone();
        future[0] = 9;
        Assert.Contains("format version 9", Assert.Throws<FormatException>(() => OnlineRowCodec.Decode(Driver(1), "driver_stats", future)).Message);
        Assert.Contains("truncated", Assert.Throws<FormatException>(() => OnlineRowCodec.Decode(Driver(1), "driver_stats", bytes.AsSpan(0, bytes.Length - 1))).Message);
    }

    [Fact]
    public void The_codec_refuses_text_that_is_not_valid_unicode()
    {
        var row = new OnlineRow(Driver(1), "v", T0, null, new Dictionary<string, object?> { ["s"] = "a\uD800b" });
        Assert.Contains("'v:s'", Assert.Throws<OnlineRowSchemaException>(() => OnlineRowCodec.Encode(row)).Message);
    }

    [Fact]
    public void The_schema_check_names_view_feature_expected_and_given_type()
    {
        var view = EveryTypeView();
        OnlineValueTypes.Check(new OnlineRow(Driver(1), view.Name, T0, null, EveryTypeValues()), view);
        var wrong = new OnlineRow(Driver(1), view.Name, T0, null, new Dictionary<string, object?> { ["f_Int64"] = 5 });
        var error = Assert.Throws<OnlineRowSchemaException>(() => OnlineValueTypes.Check(wrong, view));
        Assert.Equal("feature 'every_type:f_Int64' is Int64, but entity 'rides/driver_id=1' has a Int32 value", error.Message);
        var unknown = new OnlineRow(Driver(1), view.Name, T0, null, new Dictionary<string, object?> { ["nope"] = 5L });
        Assert.Contains("has no feature 'nope'", Assert.Throws<OnlineRowSchemaException>(() => OnlineValueTypes.Check(unknown, view)).Message);
        var nullElement = new OnlineRow(Driver(1), view.Name, T0, null, new Dictionary<string, object?> { ["l_String"] = new string?[] { "a", null } });
        Assert.Contains("null element at index 1", Assert.Throws<OnlineRowSchemaException>(() => OnlineValueTypes.Check(nullElement, view)).Message);
        Assert.Equal(typeof(float[]), OnlineValueTypes.ClrTypeOf(new ValueType(ScalarType.Float32, true)));
    }

    [Fact]
    public void Versions_compare_event_time_then_created_time_with_none_oldest()
    {
        var a = Trips(Driver(1), T0, 1);
        Assert.True(Trips(Driver(1), T0, 1, created: DateTimeOffset.MinValue).CompareVersion(a) > 0);
        Assert.True(Trips(Driver(1), T0.AddTicks(10), 1).CompareVersion(Trips(Driver(1), T0, 1, created: T0.AddYears(1))) > 0);
        Assert.Equal(0, Trips(Driver(1), T0.AddTicks(3), 1).CompareVersion(a)); // below a microsecond: equal, as stored
    }
}
