namespace Granary.Silo;

/// <summary>The silo's settings, read from the command line and environment (command line wins).</summary>
internal sealed record SiloSettings(string Host, int Port, string ClusterId, string? Postgres, string? Redis, string? Name, string? Repo)
{
    public const string Usage = """
        usage: Granary.Silo [--host IP] [--port N] [--cluster-id ID] [--postgres CONNECTION] [--redis HOST:PORT] [--name NAME] [--repo DIR]
          --host        IP address to listen on and advertise (env GRANARY_SILO_HOST, default 127.0.0.1)
          --port        silo port for silo and client traffic (env GRANARY_SILO_PORT, default 11111)
          --cluster-id  cluster name shared by its silos and clients (env GRANARY_CLUSTER_ID, default granary)
          --postgres    Npgsql connection string of the membership and reminder tables (env GRANARY_POSTGRES);
                        without it the silo runs alone with in-memory tables
          --redis       Redis endpoint for grain state (env GRANARY_REDIS); without it state is kept in memory
          --name        silo name shown in the membership table (env GRANARY_SILO_NAME, default host:port)
          --repo        feature repository whose granary.yaml names the registry and offline stores this silo
                        serves (env GRANARY_REPO); without it the silo hosts grains but no feature store
        Timings and other options bind from the configuration section Granary:Cluster (e.g. env Granary__Cluster__ProbeTimeout=00:00:02).
        """;

    public static SiloSettings Parse(string[] args)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
        var host = Env("GRANARY_SILO_HOST") ?? "127.0.0.1";
        var port = Env("GRANARY_SILO_PORT") ?? "11111";
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
        if (!int.TryParse(port, out var portNumber) || portNumber is < 0 or > 65535)
        {
            throw new ArgumentException($"Silo port '{port}' is not a port number (0..65535).\n{Usage}");
        }
        if (repo is not null && !File.Exists(Path.Combine(repo, "granary.yaml")))
        {
            throw new ArgumentException($"--repo '{repo}' has no granary.yaml; create a repository with 'granary init <dir>' or point at one.\n{Usage}");
        }
        return new SiloSettings(host, portNumber, clusterId, postgres, redis, name, repo);
    }
}
