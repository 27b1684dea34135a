using System.CommandLine;
using Granary.Client;
using Grpc.Core;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>--server URL</c> of the online verbs: talk to a running gateway's gRPC endpoint through <see cref="GranaryClient"/>
/// instead of starting the embedded silo, turning the client's errors into the CLI's (an unreachable server names its URL).
/// </summary>
internal static class ServerOption
{
    /// <summary>How long one call to the server may take.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>The option; a command without it runs on the embedded silo.</summary>
    public static Option<string?> Create() => new("--server")
    {
        Description = "A running Granary server's gRPC address (granary serve prints it), e.g. http://127.0.0.1:6570: go through it instead of the repository's embedded store",
        HelpName = "url",
    };

    /// <summary>A client of <paramref name="url"/>; a malformed address is the user's to fix.</summary>
    public static GranaryClient Connect(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            throw new CliException($"--server '{url}' is not an http:// or https:// address", "give the server's gRPC endpoint, e.g. --server http://127.0.0.1:6570");
        // One attempt and no breaker: a person at a terminal wants the answer or the error now, not retries.
        return new GranaryClient(new GranaryClientOptions { Address = address, DefaultDeadline = Deadline, RetryCount = 0, BreakerFailureThreshold = 0 });
    }

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
                "start one with 'granary serve', or check the address and port given to --server (the gRPC port, 6570 by default)");
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
