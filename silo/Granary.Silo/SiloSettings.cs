namespace Granary.Silo;

/// <summary>The silo's settings, read from the command line and environment (command line wins).</summary>
internal sealed record SiloSettings(
    string Host, int Port, int GatewayPort, int HttpPort, string ClusterId, string? Postgres, string? Redis, string? Name, string? Repo)
{
    public const string Usage = """
        usage: Granary.Silo [--host IP] [--port N] [--gateway-port N] [--http-port N] [--cluster-id ID]
                            [--postgres CONNECTION] [--redis HOST:PORT] [--name NAME] [--repo DIR]
          --host          IP address to listen on and advertise (env GRANARY_SILO_HOST, default 127.0.0.1)
          --port          silo-to-silo port (env GRANARY_SILO_PORT, default 11111)
          --gateway-port  port clients connect to (env GRANARY_GATEWAY_PORT, default 30000)
          --http-port     HTTP port of the Orleans dashboard at /dashboard (env GRANARY_HTTP_PORT, default 8080)
          --cluster-id    cluster name shared by its silos and clients; also the service id under which grain
                          state and reminders are kept (env GRANARY_CLUSTER_ID, default granary)
          --postgres      Npgsql connection string of the membership and reminder tables (env GRANARY_POSTGRES);
                          the silo applies Granary's schema there at start. Without it: localhost clustering
                          and in-memory reminders (this silo alone)
          --redis         Redis endpoint for grain state (env GRANARY_REDIS); without it state is kept in memory
          --name          silo name shown in the membership table and dashboard (env GRANARY_SILO_NAME, default host:port)
          --repo          feature repository whose granary.yaml names the registry and offline stores this silo
                          serves (env GRANARY_REPO); without it the silo hosts only diagnostic grains
        Membership timings bind from the configuration section Granary:Cluster, e.g.
        env Granary__Cluster__ProbeTimeout=00:00:02 or the argument Granary:Cluster:ProbeTimeout=00:00:02.
        Exit codes: 0 stopped, 1 failed at start or while running, 2 bad arguments or settings.
        """;

    public static SiloSettings Parse(string[] args)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
        var host = Env("GRANARY_SILO_HOST") ?? "127.0.0.1";
        var port = Env("GRANARY_SILO_PORT") ?? "11111";
        var gatewayPort = Env("GRANARY_GATEWAY_PORT") ?? "30000";
        var httpPort = Env("GRANARY_HTTP_PORT") ?? "8080";
        var clusterId = Env("GRANARY_CLUSTER_ID") ?? "granary";
        var postgres = Env("GRANARY_POSTGRES");
        var redis = Env("GRANARY_REDIS");
        var name = Env("GRANARY_SILO_NAME");
        var repo = Env("GRANARY_REPO");
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--host": host = Value(); break;
                case "--port": port = Value(); break;
                case "--gateway-port": gatewayPort = Value(); break;
                case "--http-port": httpPort = Value(); break;
                case "--cluster-id": clusterId = Value(); break;
                case "--postgres": postgres = Value(); break;
                case "--redis": redis = Value(); break;
                case "--name": name = Value(); break;
                case "--repo": repo = Value(); break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default:
                    // Leave configuration-style arguments (Granary:Cluster:X=value) to the host's command-line provider.
                    if (args[i].Contains('=')) break;
                    throw new ArgumentException($"Unknown option '{args[i]}'.\n{Usage}");
            }
        }
        if (!System.Net.IPAddress.TryParse(host, out _))
        {
            throw new ArgumentException($"--host '{host}' is not an IP address; pass one such as 127.0.0.1.\n{Usage}");
        }
        var siloPort = ParsePort("--port", port);
        var gateway = ParsePort("--gateway-port", gatewayPort);
        var http = ParsePort("--http-port", httpPort);
        if (siloPort == gateway || siloPort == http || gateway == http)
        {
            throw new ArgumentException($"--port {siloPort}, --gateway-port {gateway} and --http-port {http} must differ.\n{Usage}");
        }
        if (string.IsNullOrWhiteSpace(clusterId))
        {
            throw new ArgumentException($"--cluster-id is empty; pass a name such as 'granary'.\n{Usage}");
        }
        if (repo is not null && !File.Exists(Path.Combine(repo, "granary.yaml")))
        {
            throw new ArgumentException($"--repo '{repo}' has no granary.yaml; create a repository with 'granary init <dir>' or point at one.\n{Usage}");
        }
        return new SiloSettings(host, siloPort, gateway, http, clusterId, postgres, redis, name, repo);
    }

    private static int ParsePort(string option, string value) =>
        int.TryParse(value, out var number) && number is > 0 and <= 65535
            ? number
            : throw new ArgumentException($"{option} '{value}' is not a port number (1..65535).\n{Usage}");
}
