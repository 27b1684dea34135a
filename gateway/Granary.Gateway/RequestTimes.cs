using Google.Protobuf.WellKnownTypes;
using Granary.Definitions;

namespace Granary.Gateway;

/// <summary>Times in requests as instants, range-checked: a value no instant can hold is a 400 / INVALID_ARGUMENT naming the field and the value.</summary>
public static class RequestTimes
{
    /// <summary>Epoch seconds at <paramref name="where"/> (e.g. <c>entities.ride_at[0]</c>) as an instant.</summary>
    public static DateTimeOffset FromEpochSeconds(long seconds, string where)
        => EpochSeconds.TryToInstant(seconds, out var at) ? at
            : throw new GatewayRequestException($"{where} {seconds} is not a time: epoch seconds run from {EpochSeconds.Range}",
                "send seconds since 1970-01-01T00:00:00Z (UTC) within that range");

    /// <summary>
    /// Checks every epoch-seconds member of <paramref name="value"/> (<c>unix_timestamp_val</c>, <c>unix_timestamp_list_val</c>)
    /// before the one Feast value mapping converts it; always true, or a 400 naming <paramref name="where"/> and the value.
    /// </summary>
    public static bool CheckEpochSeconds(Feast.Types.Value value, string where)
    {
        if (value.ValCase == Feast.Types.Value.ValOneofCase.UnixTimestampVal) FromEpochSeconds(value.UnixTimestampVal, where);
        else if (value.ValCase == Feast.Types.Value.ValOneofCase.UnixTimestampListVal)
            for (var i = 0; i < value.UnixTimestampListVal.Val.Count; i++) FromEpochSeconds(value.UnixTimestampListVal.Val[i], $"{where}[{i}]");
        return true;
    }

    /// <summary>The <c>google.protobuf.Timestamp</c> <paramref name="field"/> as an instant.</summary>
    public static DateTimeOffset FromTimestamp(Timestamp timestamp, string field)
    {
        if (timestamp.Nanos is < 0 or > 999_999_999)
            throw new GatewayRequestException($"'{field}' has nanos {timestamp.Nanos}; nanos run from 0 to 999999999",
                "send the fraction of the second as 0 to 999999999 nanoseconds (earlier instants take a smaller seconds value)");
        return FromEpochSeconds(timestamp.Seconds, $"'{field}' seconds").AddTicks(timestamp.Nanos / 100);
    }
}
