using System.Text;
using System.Text.Json.Nodes;
using Feast.Serving;
using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Granary.Gateway.V1;
using Value = Feast.Types.Value;

namespace Granary.Gateway.Tests.Fuzz;

/// <summary>Values that break parsers and conversions: out-of-range numbers and times, bad text, wrong kinds, oversize strings.</summary>
internal static class Hostile
{
    /// <summary>JSON texts, each a whole value.</summary>
    public static readonly string[] JsonValues =
    [
        "null", "true", "false", "0", "-1", "1.5", "-0", "1e400", "-1e400", "1e-400", "99999999999999", "-99999999999999", "9223372036854775807",
        "-9223372036854775808", "18446744073709551616", "2147483648", "1e308", "3.5e38", "\"\"", "\"x\"", "\"\\udfff\"", "\"a\\ud800b\"", "\"\\u0000\"",
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e400\"", "\"9999-12-31T23:59:59Z\"", "\"9999-12-31\"", "\"0001-01-01T00:00:00Z\"", "\"10000-01-01T00:00:00Z\"",
        "\"2024-13-45T99:99:99Z\"", "\"2099-01-01T00:00:00Z\"", "\"2024-01-02T00:00:00+14:00\"", "\"-1\"", "\"99999999999999\"", "\"driver_stats:conv_rate\"",
        "\"nope:x\"", "\":\"", "\"a:b:c\"", "\"driver_stats:*\"", "\"city_stats\"", "\"online\"", "\"offline\"", "\"24h\"", "\"-24h\"", "\"9999999999h\"",
        "\"/etc/passwd\"", "\"../../x.parquet\"", "\"data/drivers.parquet\"", "[]", "{}", "[1,2,3]", "[\"x\"]", "[null]", "[1e400]", "[99999999999999]",
        "[\"\\udfff\"]", "[[1]]", "[{}]", "{\"a\":1}", "{\"driver_id\":[1]}", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", "\"" + new string('x', 20_000) + "\"",
        "[" + string.Join(",", Enumerable.Repeat("1", 30_000)) + "]",
    ];

    /// <summary>Raw bytes that are not UTF-8 (a lone continuation byte, an encoded surrogate, a cut sequence, an overlong form).</summary>
    public static readonly byte[][] BadUtf8 = [[0xFF], [0x80], [0xED, 0xBF, 0xBF], [0xC3], [0xE2, 0x82], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80]];

    public static readonly long[] Longs =
    [
        0, -1, 1, long.MaxValue, long.MinValue, 999_999_999_999_999, -999_999_999_999_999, 253_402_300_800, -62_135_596_801, 253_402_300_799,
        int.MaxValue, (long)int.MaxValue + 1, 4_102_444_800, 1_704_067_200,
    ];

    public static readonly double[] Doubles = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.MaxValue, -0.0, 1e-320, 3.5e38, 0.5];

    public static readonly string[] Strings =
    [
        "", "x", "driver_stats:conv_rate", "driver_stats:*", "nope:x", ":", "a:b:c", "driver_push", "pushed_stats", "city_stats", "online", "offline",
        "online_and_offline", "\uDFFF", "a\uD800b", "\0", "/etc/passwd", "/tmp/x.parquet", "/tmp/x.csv", "relative.parquet", "2024-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "NaN", "1e400", new string('v', 70_000),
    ];

    public static T Pick<T>(Random random, IReadOnlyList<T> values) => values[random.Next(values.Count)];
}

/// <summary>Mutates a valid JSON body: a value replaced, a property dropped or added, bytes flipped, bad UTF-8, a cut, a wrong root.</summary>
internal static class JsonMutations
{
    public static byte[] Mutate(Random random, string valid)
    {
        switch (random.Next(12))
        {
            case 0: return Encoding.UTF8.GetBytes(valid);
            case 1 or 2 or 3 or 4: return ReplaceValue(random, valid, random.Next(1, 3));
            case 5: return Structural(random, valid, remove: true);
            case 6: return Structural(random, valid, remove: false);
            case 7: return FlipBytes(random, Encoding.UTF8.GetBytes(valid));
            case 8: return InsertIntoString(random, valid);
            case 9: return Encoding.UTF8.GetBytes(valid)[..random.Next(valid.Length)];
            case 10: return Encoding.UTF8.GetBytes(Hostile.Pick(random, Hostile.JsonValues));
            default: return ReplaceValue(random, valid, 1, Hostile.Pick(random, Hostile.JsonValues[..22]));
        }
    }

    // Every value position in the document (object members and array items), as (parent, key or index).
    private static List<(JsonNode Parent, object Key)> Positions(JsonNode node)
    {
        var positions = new List<(JsonNode, object)>();
        void Walk(JsonNode n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (key, child) in o.ToList())
                    {
                        positions.Add((o, key));
                        if (child is not null) Walk(child);
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        positions.Add((a, i));
                        if (a[i] is { } child) Walk(child);
                    }
                    break;
            }
        }
        Walk(node);
        return positions;
    }

    // Raw JSON cannot sit in a JsonNode: a marker string goes in, and its quoted form is replaced by the raw text after.
    private static byte[] ReplaceValue(Random random, string valid, int count, string? raw = null)
    {
        var root = JsonNode.Parse(valid)!;
        var replacements = new List<(string Marker, string Raw)>();
        for (var k = 0; k < count; k++)
        {
            var positions = Positions(root);
            var (parent, key) = positions[random.Next(positions.Count)];
            var marker = $"__raw_{k}__";
            var value = raw ?? Hostile.Pick(random, Hostile.JsonValues);
            if (parent is JsonObject o) o[(string)key] = marker;
            else ((JsonArray)parent)[(int)key] = marker;
            replacements.Add(($"\"{marker}\"", value));
        }
        var text = root.ToJsonString();
        foreach (var (marker, value) in replacements) text = text.Replace(marker, value, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text);
    }

    private static byte[] Structural(Random random, string valid, bool remove)
    {
        var root = JsonNode.Parse(valid)!;
        var objects = Positions(root).Select(p => p.Parent).OfType<JsonObject>().Distinct().ToList();
        var target = objects[random.Next(objects.Count)];
        if (remove && target.Count > 0) target.Remove(target.ElementAt(random.Next(target.Count)).Key);
        else target[Hostile.Pick(random, ["extra", "entities", "features", "df", "\uDFFF", "to", "end_ts", ""])] = "__raw_0__";
        return Encoding.UTF8.GetBytes(root.ToJsonString().Replace("\"__raw_0__\"", Hostile.Pick(random, Hostile.JsonValues), StringComparison.Ordinal));
    }

    public static byte[] FlipBytes(Random random, byte[] bytes)
    {
        var list = bytes.ToList();
        for (var k = random.Next(1, 6); k > 0 && list.Count > 0; k--)
        {
            var at = random.Next(list.Count);
            switch (random.Next(3))
            {
                case 0: list[at] = (byte)random.Next(256); break;
                case 1: list.RemoveAt(at); break;
                default: list.Insert(at, (byte)random.Next(256)); break;
            }
        }
        return list.ToArray();
    }

    // Bad UTF-8 or a lone surrogate escape inside a string of the document.
    private static byte[] InsertIntoString(Random random, string valid)
    {
        var bytes = Encoding.UTF8.GetBytes(valid).ToList();
        var quotes = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == '"').ToList();
        var at = quotes[random.Next(quotes.Count)] + 1;
        byte[] insert = random.Next(2) == 0 ? Hostile.Pick(random, Hostile.BadUtf8) : Encoding.ASCII.GetBytes(Hostile.Pick(random, ["\\udfff", "\\ud800", "\\ud800\\u0041", "\\uZZZZ", "\\"]));
        bytes.InsertRange(at, insert);
        return bytes.ToArray();
    }
}

/// <summary>Mutates a GET path: a segment or the query replaced by hostile text, percent-encoded or not.</summary>
internal static class PathMutations
{
    private static readonly string[] Segments =
    [
        "1", "xyz", "-1", "", "..", "%2e%2e", "%00", "%ff", "%ed%bf%bf", "127.0.0.1", "127.0.0.1:11111", "127.0.0.1:11111@", "127.0.0.1:99999999@1",
        "[::1]:1@1", "a@b@c", "S127.0.0.1:11111:1", new string('z', 5000), "%", "%zz", "nope", "driver_stats", "%E2%82%AC", "0", "99999999999999999999",
    ];

    public static string Mutate(Random random, string valid)
    {
        if (random.Next(5) == 0) return valid;
        var query = valid.IndexOf('?');
        var path = query < 0 ? valid : valid[..query];
        var parts = path.Split('/').ToList();
        switch (random.Next(4))
        {
            case 0: parts[^1] = Hostile.Pick(random, Segments); break;
            case 1: parts.Add(Hostile.Pick(random, Segments)); break;
            case 2:
                var at = random.Next(1, parts.Count);
                // An empty first segment would make "//name", which a client reads as a host name, not a path.
                parts[at] = at == 1 ? Hostile.Pick(random, Segments.Where(s => s.Length > 0).ToArray()) : Hostile.Pick(random, Segments);
                break;
            default:
                return path + "?" + Hostile.Pick(random, ["q", "kind", "tag", "grainId", "grainType", "owner"]) + "=" + Hostile.Pick(random, Segments)
                       + (random.Next(2) == 0 ? "&q=a&q=b" : "");
        }
        return string.Join('/', parts);
    }
}

/// <summary>Valid gRPC requests of every method, and their mutations as messages (hostile field values) or as bytes.</summary>
internal static class ProtoMutations
{
    public static byte[] Mutate(Random random, IMessage valid)
    {
        var bytes = valid.ToByteArray();
        return random.Next(6) switch
        {
            0 => bytes,
            1 => JsonMutations.FlipBytes(random, bytes),
            2 => bytes.Length == 0 ? [0x0A, 0x05] : bytes[..random.Next(bytes.Length)],
            3 => RandomBytes(random),
            // A string field holding bad UTF-8: field 1 or 3 (names, references) as length-delimited bytes.
            4 => [.. bytes, (byte)(random.Next(2) == 0 ? 0x0A : 0x1A), 3, .. Hostile.Pick(random, Hostile.BadUtf8)[..1], 0x41, 0x42],
            _ => bytes, // the message itself carries the hostile values (the generators below mix them in)
        };
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static Value HostileValue(Random random) => random.Next(10) switch
    {
        0 => new Value { UnixTimestampVal = Hostile.Pick(random, Hostile.Longs) },
        1 => new Value { Int64Val = Hostile.Pick(random, Hostile.Longs) },
        2 => new Value { DoubleVal = Hostile.Pick(random, Hostile.Doubles) },
        3 => new Value { FloatVal = (float)Hostile.Pick(random, Hostile.Doubles) },
        4 => new Value { StringVal = Hostile.Pick(random, Hostile.Strings) },
        5 => new Value { Int32Val = (int)Hostile.Pick(random, Hostile.Longs) },
        6 => new Value { UnixTimestampListVal = new Int64List { Val = { Hostile.Pick(random, Hostile.Longs) } } },
        7 => new Value { BytesVal = ByteString.CopyFrom(Hostile.Pick(random, Hostile.BadUtf8)) },
        8 => new Value { DoubleListVal = new DoubleList { Val = { Hostile.Pick(random, Hostile.Doubles) } } },
        _ => new Value(),
    };

    private static Value Maybe(Random random, Value valid) => random.Next(3) == 0 ? HostileValue(random) : valid;

    private static string Maybe(Random random, string valid) => random.Next(4) == 0 ? Hostile.Pick(random, Hostile.Strings) : valid;

    private static Timestamp Time(Random random, long seconds) => random.Next(3) != 0
        ? new Timestamp { Seconds = seconds }
        : new Timestamp { Seconds = Hostile.Pick(random, Hostile.Longs), Nanos = Hostile.Pick(random, [0, -1, 999_999_999, 1_000_000_000, int.MinValue]) };

    public static IMessage OnlineRequest(Random random)
    {
        var request = new GetOnlineFeaturesRequest { FullFeatureNames = random.Next(2) == 0 };
        if (random.Next(4) == 0) request.FeatureService = Maybe(random, "driver_service");
        else request.Features = new FeatureList { Val = { Maybe(random, "driver_stats:conv_rate"), Maybe(random, "driver_stats:trips") } };
        request.Entities[Maybe(random, "driver_id")] = new RepeatedValue { Val = { Maybe(random, new Value { Int64Val = 1 }), Maybe(random, new Value { Int64Val = 2 }) } };
        if (random.Next(2) == 0)
        {
            request.RequestContext["ride_at"] = new RepeatedValue { Val = { Maybe(random, new Value { UnixTimestampVal = 1_704_067_200 }), new Value { UnixTimestampVal = 1 } } };
            request.RequestContext["distance"] = new RepeatedValue { Val = { Maybe(random, new Value { DoubleVal = 1.5 }), new Value { DoubleVal = 2 } } };
        }
        return request;
    }

    public static IMessage PushRequest(Random random)
    {
        var request = new V1.PushRequest { PushSourceName = Maybe(random, "driver_push"), To = Maybe(random, random.Next(2) == 0 ? "online" : "online_and_offline") };
        request.Columns[Maybe(random, "driver_id")] = new RepeatedValue { Val = { Maybe(random, new Value { Int64Val = 5 }) } };
        request.Columns["event_timestamp"] = new RepeatedValue { Val = { Maybe(random, new Value { UnixTimestampVal = 1_704_153_600 }) } };
        request.Columns["speed"] = new RepeatedValue { Val = { Maybe(random, new Value { DoubleVal = 2.5 }) } };
        return request;
    }

    public static IMessage MaterializeRequest(Random random)
    {
        var request = new V1.MaterializeRequest { Start = Time(random, 1_704_067_200), End = Time(random, 1_704_240_000) };
        request.FeatureViews.Add(Maybe(random, "city_stats"));
        if (random.Next(5) == 0) request.Start = null;
        return request;
    }

    public static IMessage MaterializeIncrementalRequest(Random random)
    {
        var request = new V1.MaterializeIncrementalRequest { End = Time(random, 1_704_240_000) };
        request.FeatureViews.Add(Maybe(random, "city_stats"));
        return request;
    }

    public static IMessage StatusRequest(Random random) => new MaterializationStatusRequest { FeatureViews = { Maybe(random, "city_stats") } };

    public static IMessage HistoricalRequest(Random random)
    {
        var request = new GetHistoricalFeaturesRequest
        {
            StreamRows = random.Next(4) != 0,
            ChunkRows = random.Next(4) == 0 ? (int)Hostile.Pick(random, Hostile.Longs) : 10,
            OutputPath = random.Next(5) == 0 ? Hostile.Pick(random, Hostile.Strings) : "",
        };
        request.Features.Add(Maybe(random, "driver_stats:trips"));
        if (random.Next(6) == 0)
        {
            request.EntitiesPath = Hostile.Pick(random, Hostile.Strings);
            return request;
        }
        var rows = new EntityRows();
        rows.Columns[Maybe(random, "driver_id")] = new RepeatedValue { Val = { Maybe(random, new Value { Int64Val = 1 }), new Value { Int64Val = 2 } } };
        rows.Columns["event_timestamp"] = new RepeatedValue { Val = { Maybe(random, new Value { UnixTimestampVal = 1_704_153_600 }), new Value { UnixTimestampVal = 1_704_153_600 } } };
        request.EntityRows = rows;
        return request;
    }
}

/// <summary>Malformed HTTP/1.1 requests for a raw socket: bad chunk sizes, bad lengths, bad headers.</summary>
internal static class RawHttp
{
    private static readonly string[] Routes = ["/get-online-features", "/push", "/materialize", "/parity", "/drift", "/write-to-online-store"];

    public static byte[] Request(Random random)
    {
        var route = Hostile.Pick(random, Routes);
        const string body = """{"features":["driver_stats:trips"],"entities":{"driver_id":[1]}}""";
        var head = $"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n";
        var text = random.Next(9) switch
        {
            0 => head + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n" + body + "\r\n0\r\n\r\n",
            1 => head + "Transfer-Encoding: chunked\r\n\r\n" + Hostile.Pick(random, ["zz", "-1", "10000000000000000", "7fffffffffffffff", "1;ext=\"x", "", " 5"]) + "\r\n" + body + "\r\n0\r\n\r\n",
            2 => head + "Transfer-Encoding: chunked\r\n\r\n" + body.Length.ToString("x") + "\r\n" + body + "\r\n",
            3 => head + $"Content-Length: {Hostile.Pick(random, ["-1", "99999999999999999999", "abc", "10, 20", "1000"])}\r\n\r\n" + body,
            4 => head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            5 => $"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {Hostile.Pick(random, ["application/json; charset=utf-16", "text/plain", "", "application/json; charset=latin1"])}\r\nConnection: close\r\nContent-Length: {body.Length}\r\n\r\n" + body,
            6 => $"{Hostile.Pick(random, ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])} {route} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            7 => head + "Transfer-Encoding: chunked\r\n\r\n" + string.Concat(body.Select(c => $"1\r\n{c}\r\n")) + "0\r\n\r\n",
            _ => head + "X-Bad\r\n\r\n",
        };
        return Encoding.Latin1.GetBytes(text);
    }
}
