using System.Globalization;
using System.Net;
using YamlDotNet.RepresentationModel;

namespace Granary.Repository;

/// <summary>
/// The <c>endpoints:</c> section of granary.yaml: where the gateway listens (<c>granary serve</c>, the gateway executable
/// given the repository) and where the CLI's bare <c>--server</c> connects. The one definition of each default port.
/// </summary>
public sealed record EndpointsConfig
{
    /// <summary>Default REST port: Feast's Python feature server's.</summary>
    public const int DefaultRestPort = 6566;

    /// <summary>Default gRPC port (HTTP/2 only).</summary>
    public const int DefaultGrpcPort = 6570;

    /// <summary>Default web port: Feast UI's. Browsers refuse Feast's REST port 6566 (a Fetch standard "bad port"), so the UI and dashboards get their own.</summary>
    public const int DefaultWebPort = 8888;

    /// <summary>The <see cref="WebPort"/> value that turns the web endpoint off (<c>web: off</c>).</summary>
    public const int WebPortOff = -1;

    /// <summary>Default listen address: loopback only.</summary>
    public const string DefaultHost = "127.0.0.1";

    /// <summary>The address every endpoint binds: an IP address, <c>localhost</c>, or <c>*</c> for every interface.</summary>
    public string Host { get; init; } = DefaultHost;

    /// <summary>Feast's REST API (<c>rest: host:port</c>); 0 = any free port.</summary>
    public int RestPort { get; init; } = DefaultRestPort;

    /// <summary>gRPC over HTTP/2 (<c>grpc: host:port</c>); 0 = any free port.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>The browser-safe web port (<c>web: host:port</c>, or <c>off</c> = <see cref="WebPortOff"/>); 0 = any free port.</summary>
    public int WebPort { get; init; } = DefaultWebPort;

    /// <summary>The gRPC address a client on this machine dials: <c>http://host:port</c>, loopback when the gateway listens on every interface.</summary>
    public string GrpcUrl => $"http://{ClientHost(Host)}:{GrpcPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Whether <paramref name="host"/> is something the gateway can bind: an IP address, <c>localhost</c> or <c>*</c>.</summary>
    public static bool IsListenAddress(string host) => host is "*" or "localhost" || IPAddress.TryParse(host, out _);

    private static string ClientHost(string host) => host switch
    {
        "*" or "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 => $"[{host}]",
        _ => host,
    };

    /// <summary>Reads <c>endpoints:</c> (keys <c>rest</c>, <c>grpc</c>, <c>web</c>; <c>http</c> is the older name of <c>rest</c>), adding an error per bad value.</summary>
    internal static EndpointsConfig Read(YamlObject top)
    {
        if (top.Node("endpoints") is not YamlMappingNode node) return new EndpointsConfig();
        var e = new YamlObject(top.File, node, "endpoints", top.Errors);
        e.RejectUnknownKeys("rest", "http", "grpc", "web");
        if (e.Has("rest") && e.Has("http"))
            e.Error("http", "endpoints has both 'rest' and 'http' (its older name); keep only 'rest'");
        var restKey = e.Has("rest") || !e.Has("http") ? "rest" : "http";
        var rest = Endpoint(e, restKey, DefaultRestPort);
        var grpc = Endpoint(e, "grpc", DefaultGrpcPort);
        var web = e.String("web") is { } w && string.Equals(w.Trim(), "off", StringComparison.OrdinalIgnoreCase)
            ? (Host: (string?)null, Port: WebPortOff)
            : Endpoint(e, "web", DefaultWebPort);

        // Kestrel binds one address for the three ports, so they must agree.
        var hosts = new (string Key, string? Host)[] { (restKey, rest.Host), ("grpc", grpc.Host), ("web", web.Host) }.Where(h => h.Host is not null).ToArray();
        var host = hosts.FirstOrDefault().Host ?? DefaultHost;
        foreach (var (key, h) in hosts.Skip(1))
            if (!string.Equals(h, hosts[0].Host, StringComparison.OrdinalIgnoreCase))
                e.Error(key, $"endpoints.{key} listens on '{h}' but endpoints.{hosts[0].Key} on '{hosts[0].Host}'; the gateway binds one address for all its ports: give every endpoint the same host");

        if (rest.Port > 0 && rest.Port == grpc.Port)
            e.Error("grpc", $"endpoints.grpc port {grpc.Port} is also endpoints.{restKey}'s; gRPC needs its own HTTP/2-only port (default {DefaultGrpcPort})");
        if (web.Port > 0 && (web.Port == rest.Port || web.Port == grpc.Port))
            e.Error("web", $"endpoints.web port {web.Port} is also endpoints.{(web.Port == rest.Port ? restKey : "grpc")}'s; give the web endpoint its own port (default {DefaultWebPort}), or write 'web: off'");
        return new EndpointsConfig { Host = host, RestPort = rest.Port, GrpcPort = grpc.Port, WebPort = web.Port };
    }

    // host:port, where host is an IP address ([...] for IPv6), localhost or *; an absent key takes the default on the default host.
    private static (string? Host, int Port) Endpoint(YamlObject e, string key, int defaultPort)
    {
        var text = e.String(key);
        if (text is null) return (null, defaultPort);
        var colon = text.LastIndexOf(':');
        var example = $"{key}: {DefaultHost}:{defaultPort}";
        if (colon <= 0 || colon == text.Length - 1)
        {
            e.Error(key, $"endpoints.{key} '{text}' is not host:port; write e.g. '{example}'");
            return (null, defaultPort);
        }
        var host = text[..colon].Trim();
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        var portText = text[(colon + 1)..].Trim();
        if (!IsListenAddress(host))
        {
            e.Error(key, $"endpoints.{key} host '{host}' in '{text}' is not an IP address, 'localhost' or '*'; write e.g. '{example}'");
            host = DefaultHost;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            e.Error(key, $"endpoints.{key} port '{portText}' in '{text}' is not a port between 0 and 65535 (0 = any free port); write e.g. '{example}'");
            port = defaultPort;
        }
        return (host, port);
    }
}
