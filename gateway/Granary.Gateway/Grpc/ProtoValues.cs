using Feast.Serving;
using Feast.Types;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Granary.Contracts;
using Granary.Definitions;
using Granary.Online;
using Granary.Serving;
using Value = Feast.Types.Value;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Between Feast's <c>feast.types.Value</c> and Granary's values, by the declared type: responses use the oneof member of
/// the view's schema type; requests accept the member of the declared type, and only lossless alternatives Feast's
/// clients send (int64 for an Int32 key within range, int32 for Int64, double for Float32); anything else is an error
/// naming the column, the row and the value.
/// </summary>
public static class ProtoValues
{
    /// <summary>The proto form of <paramref name="value"/> declared as <paramref name="type"/> (<see cref="FeastValues.ToProto"/>).</summary>
    public static Value ToProto(object? value, ValueType type) => FeastValues.ToProto(value, type);

    /// <summary>The values of a request column as <paramref name="type"/>; <paramref name="where"/> names it in errors (e.g. <c>entities.driver_id</c>).</summary>
    public static IReadOnlyList<object?> ReadColumn(RepeatedValue column, ValueType type, string where)
    {
        var values = new object?[column.Val.Count];
        for (var r = 0; r < values.Length; r++) values[r] = FromProto(column.Val[r], type, $"{where}[{r}]");
        return values;
    }

    /// <summary>One request value as <paramref name="type"/> (<see cref="FeastValues.TryFromProto"/>); a member that fits neither is a 400 naming it.</summary>
    public static object? FromProto(Value value, ValueType type, string where)
        => RequestTimes.CheckEpochSeconds(value, where) && FeastValues.TryFromProto(value, type, out var result) ? result : throw Mismatch(value, type, where);

    /// <summary>Feast's response message for <paramref name="response"/>, each column's values in its declared type.</summary>
    public static GetOnlineFeaturesResponse ToProto(OnlineFeaturesResponse response, IReadOnlyDictionary<string, ValueType> types)
    {
        var proto = new GetOnlineFeaturesResponse { Metadata = new GetOnlineFeaturesResponseMetadata { FeatureNames = new FeatureList() } };
        proto.Metadata.FeatureNames.Val.AddRange(response.FeatureNames);
        proto.Results.Capacity = response.Results.Count;
        // The features of one view share their entity row's event time, and every null the same empty Value: one
        // message per distinct (row, time) and one empty Value per response, referenced many times (the wire is the same).
        var rows = response.Results.Count == 0 ? 0 : response.Results[0].Values.Length;
        var stampAt = new DateTimeOffset[rows];
        var stamps = new Timestamp?[rows];
        var noTime = new Timestamp();
        var nullValue = new Value();
        for (var c = 0; c < response.Results.Count; c++)
        {
            var column = response.Results[c];
            var type = types.TryGetValue(response.FeatureNames[c], out var t) ? t : new ValueType(ScalarType.String);
            var vector = new GetOnlineFeaturesResponse.Types.FeatureVector();
            var count = column.Values.Length;
            vector.Values.Capacity = count;
            vector.Statuses.Capacity = count;
            vector.EventTimestamps.Capacity = count;
            for (var r = 0; r < count; r++)
            {
                vector.Values.Add(column.Values[r] is null ? nullValue : ToProto(column.Values[r], type));
                vector.Statuses.Add(Status(column.Statuses[r]));
                Timestamp stamp;
                if (column.EventTimestamps[r] is not { } at) stamp = noTime;
                else if (r < rows && stamps[r] is { } held && stampAt[r] == at) stamp = held;
                else
                {
                    stamp = Timestamp.FromDateTimeOffset(at);
                    if (r < rows) (stamps[r], stampAt[r]) = (stamp, at);
                }
                vector.EventTimestamps.Add(stamp);
            }
            if (column.ServedFromCache is { } fromCache) vector.GranaryServedFromCache.Add(fromCache);
            proto.Results.Add(vector);
        }
        return proto;
    }

    /// <summary>Feast's <c>FieldStatus</c> of a status.</summary>
    public static FieldStatus Status(FeatureStatus status) => status switch
    {
        FeatureStatus.Present => FieldStatus.Present,
        FeatureStatus.NullValue => FieldStatus.NullValue,
        FeatureStatus.NotFound => FieldStatus.NotFound,
        FeatureStatus.OutsideMaxAge => FieldStatus.OutsideMaxAge,
        _ => FieldStatus.Invalid,
    };

    private static GatewayRequestException Mismatch(Value value, ValueType type, string where)
    {
        var text = value.ToString();
        if (text.Length > 60) text = text[..57] + "...";
        return new($"{where} is {value.ValCase} {text}, but the column is declared {type}",
            $"send feast.types.Value with {FeastValues.FieldName(type)} set");
    }
}
