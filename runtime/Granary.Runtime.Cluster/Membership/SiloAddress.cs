using System.Globalization;
using System.Net;

namespace Granary.Runtime.Cluster.Membership;

/// <summary>A silo's identity: its endpoint plus a generation, so a restarted silo on the same endpoint is a new silo.</summary>
public sealed record SiloAddress(string Host, int Port, long Generation) : IComparable<SiloAddress>
{
    /// <summary>A new identity for a silo starting now on <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static SiloAddress New(string host, int port) => new(host, port, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>The TCP endpoint the silo listens on.</summary>
    public IPEndPoint Endpoint => new(IPAddress.Parse(Host), Port);

    /// <summary>Printed <c>host:port@generation</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}@{Generation}");

    /// <summary>Parses the <c>host:port@generation</c> form printed by <see cref="ToString"/>.</summary>
    public static SiloAddress Parse(string text)
    {
        var at = text.LastIndexOf('@');
        var colon = at < 0 ? -1 : text.LastIndexOf(':', at);
        if (at < 0 || colon < 0
            || !int.TryParse(text.AsSpan(colon + 1, at - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || !long.TryParse(text.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
        {
            throw new FormatException($"'{text}' is not a silo address; expected host:port@generation, e.g. 127.0.0.1:11111@1700000000000.");
        }
        return new SiloAddress(text[..colon], port, generation);
    }

    /// <summary>Orders by host, port, then generation (a stable order for rings and logs).</summary>
    public int CompareTo(SiloAddress? other)
    {
        if (other is null) return 1;
        var c = string.CompareOrdinal(Host, other.Host);
        if (c != 0) return c;
        c = Port.CompareTo(other.Port);
        return c != 0 ? c : Generation.CompareTo(other.Generation);
    }
}
