namespace Granary;

/// <summary>
/// The base of every error Granary reports to a user: the message says what was wrong and where; <see cref="Hint"/>
/// says what to do about it. Hosts (CLI, gateway) render both and map the concrete type to an exit code or status.
/// </summary>
public abstract class GranaryException : Exception
{
    /// <summary>An error with <paramref name="message"/> and an optional <paramref name="hint"/> for the user.</summary>
    protected GranaryException(string message, string? hint = null, Exception? innerException = null)
        : base(message, innerException) => Hint = hint;

    /// <summary>What the user can do about it, when the message alone does not say; null otherwise.</summary>
    public string? Hint { get; }
}
