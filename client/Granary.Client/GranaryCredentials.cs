namespace Granary.Client;

/// <summary>
/// Where a client finds its credentials, never on a command line (where other users of the machine and shell history
/// see them): the environment variable <see cref="ApiKeyVariable"/>, else <see cref="TokenVariable"/>, else the first
/// line of the credentials file (<see cref="FileVariable"/>, default <c>~/.config/granary/credentials</c>).
/// </summary>
public static class GranaryCredentials
{
    /// <summary>An API key (<c>gk_...</c>, from <c>granary auth create-key</c>).</summary>
    public const string ApiKeyVariable = "GRANARY_API_KEY";

    /// <summary>A JWT from the identity provider the gateway trusts.</summary>
    public const string TokenVariable = "GRANARY_TOKEN";

    /// <summary>A file whose first line is the key or token.</summary>
    public const string FileVariable = "GRANARY_CREDENTIALS_FILE";

    /// <summary>The default credentials file.</summary>
    public static string DefaultFile => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "granary", "credentials");

    /// <summary>The bearer token from the environment or the credentials file; null when there is none.</summary>
    public static string? FromEnvironment()
    {
        foreach (var variable in new[] { ApiKeyVariable, TokenVariable })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value) return value.Trim();
        var file = Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } configured ? configured : DefaultFile;
        if (!File.Exists(file)) return null;
        var first = File.ReadLines(file).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'));
        return string.IsNullOrEmpty(first) ? null : first;
    }
}
