namespace Granary;

/// <summary>
/// The base of every error Granary reports to a user: the message says what was wrong and where; <see cref="Hint"/>
/// says what to do about it. Hosts (CLI, gateway) render both and map the concrete type to an exit code or status.
/// </summary>
/// <remarks>
/// Typed data (hint, versions, error lists) lives in <see cref="Exception.Data"/> under "granary.*" keys, because that is
/// what survives when the error crosses from a silo to its caller: the host serializes message, data and stack of
/// exceptions in Granary's namespaces (see Granary.Grains.GranarySerialization), not their private fields.
/// </remarks>
public abstract class GranaryException : Exception
{
    /// <summary>An error with <paramref name="message"/> and an optional <paramref name="hint"/> for the user.</summary>
    protected GranaryException(string message, string? hint = null, Exception? innerException = null)
        : base(message, innerException)
    {
        if (hint is not null) Data["granary.hint"] = hint;
    }

    /// <summary>What the user can do about it, when the message alone does not say; null otherwise.</summary>
    public string? Hint => Data["granary.hint"] as string;

    /// <summary>Keeps a typed value with the error (see remarks).</summary>
    protected void Keep(string name, object? value) => Data["granary." + name] = value;

    /// <summary>A value kept with <see cref="Keep"/>, or <paramref name="fallback"/> when it is absent.</summary>
    protected T Kept<T>(string name, T fallback) => Data["granary." + name] is T value ? value : fallback;
}
