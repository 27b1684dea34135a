using Feast.Serving;
using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Granary.Definitions;
using Granary.Gateway.Grpc;
using Granary.Online;
using Granary.Serving;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.DependencyInjection;
using Value = Feast.Types.Value;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway.Tests;

/// <summary>
/// gRPC's <c>GetOnlineFeatures</c> answers are written straight from the domain answer (<see cref="OnlineAnswer"/>), not
/// through the generated message: Feast's clients parse them with the generated parser, so for every kind of answer the
/// bytes must parse to the message <see cref="ProtoValues"/> builds, and be the bytes the generated code writes.
/// </summary>
public sealed class DirectOnlineResponseTests
{
    private static readonly DateTimeOffset At = new(2024, 1, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_scalar_type_with_defaults_extremes_negatives_NaN_and_unicode()
    {
        var columns = new (string Name, ValueType Type, object?[] Values)[]
        {
            ("i32", new(ScalarType.Int32), [0, -1, int.MinValue, int.MaxValue, 127, 128]),
            ("i64", new(ScalarType.Int64), [0L, -1L, long.MinValue, long.MaxValue, 300L, -300L]),
            ("f32", new(ScalarType.Float32), [0f, -0f, float.NaN, float.NegativeInfinity, -1.5f, float.Epsilon]),
            ("f64", new(ScalarType.Float64), [0d, -0d, double.NaN, BitConverter.UInt64BitsToDouble(0x7FF8_0000_0000_0001), double.MaxValue, -2.25]),
            ("flag", new(ScalarType.Bool), [false, true, false, true, true, false]),
            ("text", new(ScalarType.String), ["", "plain", "naïve café", "日本語テキスト", "emoji 🚀👩‍💻", new string('x', 300)]),
            ("blob", new(ScalarType.Bytes), [Array.Empty<byte>(), new byte[] { 0 }, new byte[] { 0xFF, 0x80, 0x7F }, new byte[200], new byte[] { 1 }, new byte[] { 2, 3 }]),
            ("seen", new(ScalarType.UnixTimestamp), [DateTimeOffset.UnixEpoch, At, new DateTimeOffset(1960, 5, 1, 0, 0, 0, TimeSpan.Zero), DateTimeOffset.MaxValue, DateTimeOffset.MinValue, At.AddTicks(1)]),
        };
        AssertSameAsGenerated(Answer(columns), Types(columns));
    }

    [Fact]
    public void Every_list_type_including_empty_lists_negatives_NaN_and_unicode()
    {
        var columns = new (string Name, ValueType Type, object?[] Values)[]
        {
            ("i32s", new(ScalarType.Int32, true), [Array.Empty<int>(), new[] { 0, -1, int.MaxValue, int.MinValue }, new[] { 5 }]),
            ("i64s", new(ScalarType.Int64, true), [Array.Empty<long>(), new[] { 0L, -1L, long.MinValue, 1L << 40 }, new[] { 7L }]),
            ("f32s", new(ScalarType.Float32, true), [Array.Empty<float>(), new[] { float.NaN, -0f, 1e30f }, new[] { 0.5f }]),
            ("f64s", new(ScalarType.Float64, true), [Array.Empty<double>(), new[] { double.NaN, double.NegativeInfinity, -1e-300 }, new[] { 0d }]),
            ("flags", new(ScalarType.Bool, true), [Array.Empty<bool>(), new[] { true, false, true }, new[] { false }]),
            ("texts", new(ScalarType.String, true), [Array.Empty<string>(), new[] { "", "ünï", "🚀" }, new[] { new string('é', 100) }]),
            ("blobs", new(ScalarType.Bytes, true), [Array.Empty<byte[]>(), new[] { Array.Empty<byte>(), new byte[] { 9, 8 } }, new[] { new byte[150] }]),
            ("seens", new(ScalarType.UnixTimestamp, true), [Array.Empty<DateTimeOffset>(), new[] { DateTimeOffset.UnixEpoch, At, new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero) }, new[] { At }]),
        };
        AssertSameAsGenerated(Answer(columns), Types(columns));
    }

    [Fact]
    public void Stored_values_of_another_type_are_converted_as_the_generated_path_converts_them()
    {
        var columns = new (string Name, ValueType Type, object?[] Values)[]
        {
            ("i32_from_long", new(ScalarType.Int32), [5L, -7L]),
            ("i64_from_int", new(ScalarType.Int64), [5, -7]),
            ("f32_from_double", new(ScalarType.Float32), [0.1, double.NaN]),
            ("f64_from_float", new(ScalarType.Float64), [0.1f, -3]),
            ("i64s_from_objects", new(ScalarType.Int64, true), [new List<object> { 1, 2L, -3 }, new object[] { (short)4 }]),
            ("f64s_from_floats", new(ScalarType.Float64, true), [new[] { 0.5f, float.NaN }, new List<double> { 1, 2 }]),
            ("texts_from_list", new(ScalarType.String, true), [new List<string> { "a", "β" }, new List<string>()]),
        };
        AssertSameAsGenerated(Answer(columns), Types(columns));
    }

    [Fact]
    public void Nulls_every_status_and_every_kind_of_event_time()
    {
        var statuses = new[] { FeatureStatus.Present, FeatureStatus.NullValue, FeatureStatus.NotFound, FeatureStatus.OutsideMaxAge, (FeatureStatus)99 };
        var times = new DateTimeOffset?[] { At, null, DateTimeOffset.UnixEpoch, new DateTimeOffset(2024, 1, 2, 12, 0, 0, 123, TimeSpan.FromHours(5)).AddTicks(4567), new DateTimeOffset(1950, 1, 1, 0, 0, 0, 1, TimeSpan.Zero) };
        var response = new OnlineFeaturesResponse(["driver_id", "rate", "name", "tags"],
        [
            new([1L, 2L, 3L, 4L, 5L], [.. statuses.Select(_ => FeatureStatus.Present)], new DateTimeOffset?[5]),
            new([0.5, null, null, 1.5, null], statuses, times),
            new(["a", null, null, "b", null], [.. statuses.Reverse()], [.. times.Reverse()]),
            new([new[] { "x" }, null, null, Array.Empty<string>(), null], statuses, times),
        ]);
        var types = new Dictionary<string, ValueType>
        {
            ["driver_id"] = new(ScalarType.Int64), ["rate"] = new(ScalarType.Float64), ["name"] = new(ScalarType.String), ["tags"] = new(ScalarType.String, true),
        };
        AssertSameAsGenerated(response, types);
    }

    [Fact]
    public void Values_served_from_cache_carry_granarys_flags_and_answers_without_them_are_feasts_bytes()
    {
        var types = new Dictionary<string, ValueType> { ["driver_id"] = new(ScalarType.Int64), ["rate"] = new(ScalarType.Float64), ["trips"] = new(ScalarType.Int64) };
        OnlineFeaturesResponse Response() => new(["driver_id", "rate", "trips"],
        [
            new([1L, 2L, 3L], [FeatureStatus.Present, FeatureStatus.Present, FeatureStatus.Present], new DateTimeOffset?[3]),
            new([0.5, null, 1.5], [FeatureStatus.Present, FeatureStatus.NotFound, FeatureStatus.Present], [At, null, At]),
            new([10L, null, 30L], [FeatureStatus.Present, FeatureStatus.NotFound, FeatureStatus.Present], [At, null, At]),
        ]);
        var plain = Response();
        var flagged = Response();
        flagged.Results[1].MarkServedFromCache(0);
        flagged.Results[1].MarkServedFromCache(2);
        flagged.Results[2].MarkServedFromCache(2);
        AssertSameAsGenerated(flagged, types);

        var message = new OnlineAnswer(flagged, types).ToMessage();
        Assert.Empty(message.Results[0].GranaryServedFromCache);
        Assert.Equal([true, false, true], message.Results[1].GranaryServedFromCache);
        Assert.Equal([false, false, true], message.Results[2].GranaryServedFromCache);
        // Without the field (as Feast's own parser reads it: an unknown field skipped), the flagged answer is the plain one.
        var bytes = new byte[new OnlineAnswer(flagged, types).Size];
        new OnlineAnswer(flagged, types).WriteTo(bytes);
        var asFeastReadsIt = GetOnlineFeaturesResponse.Parser.ParseFrom(bytes);
        foreach (var vector in asFeastReadsIt.Results) vector.GranaryServedFromCache.Clear();
        Assert.Equal(new OnlineAnswer(plain, types).ToMessage(), asFeastReadsIt);
        Assert.Equal(ProtoValues.ToProto(plain, types).ToByteArray(), asFeastReadsIt.ToByteArray());
    }

    [Fact]
    public void An_empty_answer_a_feature_with_no_rows_and_one_by_one()
    {
        AssertSameAsGenerated(new OnlineFeaturesResponse([], []), new Dictionary<string, ValueType>());
        AssertSameAsGenerated(new OnlineFeaturesResponse(["rate"], [new([], [], [])]), new Dictionary<string, ValueType> { ["rate"] = new(ScalarType.Float64) });
        AssertSameAsGenerated(new OnlineFeaturesResponse(["rate"], [new([0.25], [FeatureStatus.Present], [At])]), new Dictionary<string, ValueType> { ["rate"] = new(ScalarType.Float64) });
    }

    [Fact]
    public void A_feature_without_a_declared_type_is_written_as_a_string_as_before()
    {
        AssertSameAsGenerated(new OnlineFeaturesResponse(["undeclared"], [new(["v", null], [FeatureStatus.Present, FeatureStatus.NotFound], [At, null])]),
            new Dictionary<string, ValueType>());
    }

    [Fact]
    public void A_hundred_entities_by_fifty_features_of_mixed_types()
    {
        var random = new Random(11);
        var types = new Dictionary<string, ValueType>();
        var names = new List<string> { "driver_id" };
        var results = new List<OnlineFeatureColumn>
        {
            new([.. Enumerable.Range(0, 100).Select(i => (object?)(long)(1000 + i))], [.. Enumerable.Repeat(FeatureStatus.Present, 100)], new DateTimeOffset?[100]),
        };
        types["driver_id"] = new(ScalarType.Int64);
        var scalars = new[] { ScalarType.Float64, ScalarType.Int64, ScalarType.Float32, ScalarType.Int32, ScalarType.String, ScalarType.Bool };
        for (var f = 0; f < 49; f++)
        {
            var type = new ValueType(scalars[f % scalars.Length], IsList: f % 10 == 9);
            var name = $"view_{f / 10}__feature_{f}";
            names.Add(name);
            types[name] = type;
            var values = new object?[100];
            var statuses = new FeatureStatus[100];
            var times = new DateTimeOffset?[100];
            for (var r = 0; r < 100; r++)
            {
                var missing = random.Next(10) == 0;
                statuses[r] = missing ? FeatureStatus.NotFound : random.Next(20) == 0 ? FeatureStatus.OutsideMaxAge : FeatureStatus.Present;
                times[r] = missing ? null : At.AddSeconds(-random.Next(1_000_000)).AddTicks(random.Next(10_000_000));
                values[r] = missing ? null : RandomValue(random, type);
            }
            results.Add(new(values, statuses, times));
        }
        AssertSameAsGenerated(new OnlineFeaturesResponse(names, results), types);
    }

    [Fact]
    public void A_value_that_does_not_fit_its_type_fails_when_the_answer_is_built_as_it_did_before()
    {
        var response = new OnlineFeaturesResponse(["trips"], [new(["many"], [FeatureStatus.Present], [At])]);
        var types = new Dictionary<string, ValueType> { ["trips"] = new(ScalarType.Int64) };
        var before = Record.Exception(() => ProtoValues.ToProto(response, types));
        var now = Record.Exception(() => new OnlineAnswer(response, types));
        Assert.NotNull(before);
        Assert.NotNull(now);
        Assert.Equal(before.GetType(), now.GetType());
    }

    [Fact]
    public void Writing_into_a_span_of_the_wrong_size_is_refused()
    {
        var answer = new OnlineAnswer(new OnlineFeaturesResponse(["rate"], [new([0.25], [FeatureStatus.Present], [At])]),
            new Dictionary<string, ValueType> { ["rate"] = new(ScalarType.Float64) });
        Assert.Throws<ArgumentException>(() => answer.WriteTo(new byte[answer.Size + 1]));
    }

    private static object RandomValue(Random random, ValueType type)
    {
        object One(ScalarType scalar) => scalar switch
        {
            ScalarType.Float64 => random.NextDouble() * 200 - 100,
            ScalarType.Int64 => random.NextInt64(-1L << 40, 1L << 40),
            ScalarType.Float32 => (float)(random.NextDouble() * 10 - 5),
            ScalarType.Int32 => random.Next(int.MinValue, int.MaxValue),
            ScalarType.String => $"city-{random.Next(1000)}-ü",
            _ => random.Next(2) == 0,
        };
        if (!type.IsList) return One(type.Scalar);
        var items = Enumerable.Range(0, random.Next(5)).Select(_ => One(type.Scalar)).ToArray();
        return type.Scalar switch
        {
            ScalarType.Float64 => items.Cast<double>().ToArray(),
            ScalarType.Int64 => items.Cast<long>().ToArray(),
            ScalarType.Float32 => items.Cast<float>().ToArray(),
            ScalarType.Int32 => items.Cast<int>().ToArray(),
            ScalarType.String => items.Cast<string>().ToArray(),
            _ => items.Cast<bool>().ToArray(),
        };
    }

    private static OnlineFeaturesResponse Answer((string Name, ValueType Type, object?[] Values)[] columns)
        => new([.. columns.Select(c => c.Name)], [.. columns.Select(c => new OnlineFeatureColumn(c.Values,
            [.. c.Values.Select(v => v is null ? FeatureStatus.NullValue : FeatureStatus.Present)],
            [.. c.Values.Select((_, i) => (DateTimeOffset?)At.AddMinutes(i))]))]);

    private static Dictionary<string, ValueType> Types((string Name, ValueType Type, object?[] Values)[] columns)
        => columns.ToDictionary(c => c.Name, c => c.Type);

    private static void AssertSameAsGenerated(OnlineFeaturesResponse response, IReadOnlyDictionary<string, ValueType> types)
    {
        var expected = ProtoValues.ToProto(response, types);
        var answer = new OnlineAnswer(response, types);
        Assert.Equal(expected.CalculateSize(), answer.Size);
        var bytes = new byte[answer.Size];
        answer.WriteTo(bytes);
        Assert.Equal(expected, GetOnlineFeaturesResponse.Parser.ParseFrom(bytes));
        Assert.Equal(expected.ToByteArray(), bytes);
    }
}

/// <summary>
/// The direct answers on the wire of the real gateway: both services' <c>GetOnlineFeatures</c> send the bytes the
/// generated message of the same read serializes to, and server reflection still describes the method.
/// </summary>
public sealed class DirectOnlineResponseServerTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    [Theory]
    [InlineData("feast.serving.ServingService")]
    [InlineData("granary.gateway.v1.Granary")]
    public async Task GetOnlineFeatures_sends_the_bytes_of_the_generated_message(string service)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_stats:conv_rate", "driver_stats:trips", "driver_stats:rating" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1 }, new Value { Int64Val = 3 }, new Value { Int64Val = 2 } } };
        var raw = new Method<GetOnlineFeaturesRequest, byte[]>(MethodType.Unary, service, "GetOnlineFeatures",
            Marshallers.Create<GetOnlineFeaturesRequest>(r => r.ToByteArray(), b => GetOnlineFeaturesRequest.Parser.ParseFrom(b)),
            Marshallers.Create<byte[]>(b => b, b => b));
        var onWire = await server.Channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(), request);

        var queries = server.Gateway.Services.GetRequiredService<OnlineFeatureQueries>();
        var generated = await FeastServingGrpcService.ReadAsync(queries, request, new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = server.Gateway.Services }, CancellationToken.None);
        Assert.Equal(generated.ToByteArray(), onWire);
        Assert.Equal(generated, GetOnlineFeaturesResponse.Parser.ParseFrom(onWire));
        Assert.Equal(3, generated.Results[1].Values.Count);
    }

    [Fact]
    public void Both_services_bind_GetOnlineFeatures_to_the_direct_answer_once()
    {
        var bound = server.Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .Where(m => m?.Name == "GetOnlineFeatures").ToList();
        Assert.Equal(["/feast.serving.ServingService/GetOnlineFeatures", "/granary.gateway.v1.Granary/GetOnlineFeatures"], bound.Select(m => m!.FullName).Order());
        Assert.All(bound, m => Assert.IsType<Method<GetOnlineFeaturesRequest, OnlineAnswer>>(m));
    }

    [Fact]
    public async Task Server_reflection_describes_GetOnlineFeatures_of_Feasts_service()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "feast.serving.ServingService" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(b => FileDescriptorProto.Parser.ParseFrom(b)).ToList();
        var method = files.SelectMany(f => f.Service).Single(s => s.Name == "ServingService").Method.Single(m => m.Name == "GetOnlineFeatures");
        Assert.Equal(".feast.serving.GetOnlineFeaturesResponse", method.OutputType);
    }
}
