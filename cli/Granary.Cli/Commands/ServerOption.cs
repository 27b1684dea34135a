using System.CommandLine;
using Granary.Contracts;
using Granary.Client;
using Granary.Definitions;
using Granary.Repository;
using Grpc.Core;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>--server URL</c> of the online verbs: talk to a running gateway's gRPC endpoint through <see cref="GranaryClient"/>
/// instead of starting the embedded silo, turning the client's errors into the CLI's (an unreachable server names its URL).
/// </summary>
internal static class ServerOption
{
    /// <summary>How long one call to the server may take.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>An example address for messages: the default gRPC endpoint.</summary>
    private static readonly string Example = new EndpointsConfig().GrpcUrl;

    /// <summary>The option; a command without it runs on the embedded silo, and a bare <c>--server</c> connects to the repository's <c>endpoints.grpc</c>.</summary>
    public static Option<string?> Create() => new("--server")
    {
        Description = $"Go through a running Granary server instead of the repository's embedded store: its gRPC address (granary serve prints it), e.g. {Example}; without a value, endpoints.grpc of granary.yaml",
        HelpName = "url",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>
    /// The server to go through: null without <c>--server</c>; its value when given one; else the gRPC address of
    /// <c>endpoints:</c> in the repository's granary.yaml (the address <c>granary serve</c> listens on).
    /// </summary>
    public static string? Url(CliContext context, ParseResult parse, Option<string?> option)
    {
        if (parse.GetResult(option) is null) return null;
        if (parse.GetValue(option) is { Length: > 0 } url) return url;
        var root = context.RepositoryRoot(parse);
        if (!File.Exists(Path.Combine(root, RepositoryConfig.FileName)))
            throw new CliException($"--server without an address connects to endpoints.grpc of {RepositoryConfig.FileName}, but there is no {RepositoryConfig.FileName} in '{root}'",
                $"give the address, e.g. --server {Example}, or pass --repo <dir>");
        return RepositoryConfig.Load(root).Endpoints.GrpcUrl;
    }

    /// <summary>A client of <paramref name="url"/>; a malformed address is the user's to fix.</summary>
    public static GranaryClient Connect(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            throw new CliException($"--server '{url}' is not an http:// or https:// address", $"give the server's gRPC endpoint, e.g. --server {Example}");
        // One attempt and no breaker: a person at a terminal wants the answer or the error now, not retries.
        return new GranaryClient(new GranaryClientOptions { Address = address, DefaultDeadline = Deadline, RetryCount = 0, BreakerFailureThreshold = 0 });
    }

    /// <summary>
    /// The server's registry rebuilt as a snapshot from its listing: entities, feature views and data sources with their
    /// types and column naming, enough for core's checks (e.g. <see cref="Push.PushPlan"/>) to judge rows as the server will.
    /// Paths, queries and other settings the listing does not carry are left empty.
    /// </summary>
    public static RegistrySnapshot Snapshot(RegistryInfo registry)
    {
        var definitions = registry.Definitions;
        return new RegistrySnapshot
        {
            Project = registry.Project,
            Version = registry.Version,
            Entities = definitions.Entities.Select(e => new Entity { Name = e.Name, JoinKey = e.JoinKey, ValueType = TypeOf(e.ValueType, $"entity '{e.Name}'") }).ToArray(),
            FeatureViews = definitions.FeatureViews.Select(v => new FeatureView
            {
                Name = v.Name, Entities = v.Entities, Source = v.Source,
                Features = v.Features.Select(f => new Field(f.Name, TypeOf(f.ValueType, $"feature '{v.Name}:{f.Name}'"))).ToArray(),
            }).ToArray(),
            DataSources = definitions.DataSources.Select(Source).ToArray(),
        };
    }

    private static DataSource Source(RegistryDataSource d) => d.Kind switch
    {
        "push" => new PushSource
        {
            Name = d.Name, BatchSource = d.BatchSource ?? "", TimestampField = d.TimestampField, CreatedTimestampField = d.CreatedTimestampField, FieldMapping = d.FieldMapping,
        },
        "request" => new RequestSource { Name = d.Name, Schema = d.Schema.Select(f => new Field(f.Name, TypeOf(f.ValueType, $"request field '{d.Name}:{f.Name}'"))).ToArray() },
        "postgres" => new PostgresSource { Name = d.Name, TimestampField = d.TimestampField, CreatedTimestampField = d.CreatedTimestampField, FieldMapping = d.FieldMapping },
        _ => new FileSource { Name = d.Name, Path = "", TimestampField = d.TimestampField, CreatedTimestampField = d.CreatedTimestampField, FieldMapping = d.FieldMapping },
    };

    /// <summary>Granary's type of a Feast <c>ValueType</c> name as the server lists it.</summary>
    private static ValueType TypeOf(string feastName, string what)
        => FeastValues.TryParseTypeName(feastName, out var type) ? type
            : throw new CliException($"the server lists {what} with type '{feastName}', which this granary does not know", "use a granary CLI of the server's version");

    /// <summary>Runs <paramref name="call"/>, turning the client's errors into <see cref="CliException"/>s that say which server answered or did not.</summary>
    public static async Task<T> CallAsync<T>(string url, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (GranaryClientException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            throw new CliException($"the Granary server at {url} is unavailable: {e.Message}",
                $"start one with 'granary serve', or check the address given to --server (the gRPC port: endpoints.grpc of granary.yaml, {EndpointsConfig.DefaultGrpcPort} by default)");
        }
        catch (GranaryClientException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new CliException($"the Granary server at {url} did not answer within {Deadline.TotalSeconds:0} s", "check that the server is healthy (GET /health on its REST port)");
        }
        catch (GranaryClientException e)
        {
            throw new CliException($"the Granary server at {url} refused the request: {e.Message}", e.Hint);
        }
    }
}
