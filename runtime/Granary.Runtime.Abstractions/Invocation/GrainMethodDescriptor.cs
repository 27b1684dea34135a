namespace Granary.Runtime.Invocation;

/// <summary>Scheduling and delivery flags of a grain interface method, from its attributes.</summary>
[Flags]
public enum GrainMethodOptions
{
    /// <summary>An ordinary, non-interleaving request.</summary>
    None = 0,
    /// <summary><see cref="ReadOnlyAttribute"/>: may interleave with other read-only requests.</summary>
    ReadOnly = 1,
    /// <summary><see cref="AlwaysInterleaveAttribute"/>: may interleave with anything.</summary>
    AlwaysInterleave = 2,
    /// <summary><see cref="OneWayAttribute"/>: the caller does not wait for a result.</summary>
    OneWay = 4,
}

/// <summary>Static description of one grain interface method, emitted by the code generator.</summary>
/// <param name="InterfaceName">Full name of the grain interface the proxy implements.</param>
/// <param name="MethodName">The method's name.</param>
/// <param name="InterfaceId">Stable id of the interface (hash of its full name).</param>
/// <param name="MethodId">Stable id of the method within the interface (hash of its signature).</param>
/// <param name="Options">Scheduling and delivery flags.</param>
/// <param name="ResponseTimeout">Per-method override of the response timeout, from <see cref="ResponseTimeoutAttribute"/>.</param>
public sealed record GrainMethodDescriptor(
    string InterfaceName,
    string MethodName,
    int InterfaceId,
    int MethodId,
    GrainMethodOptions Options,
    TimeSpan? ResponseTimeout)
{
    /// <summary>Whether the method is <see cref="ReadOnlyAttribute"/>.</summary>
    public bool IsReadOnly => (Options & GrainMethodOptions.ReadOnly) != 0;
    /// <summary>Whether the method is <see cref="AlwaysInterleaveAttribute"/>.</summary>
    public bool IsAlwaysInterleave => (Options & GrainMethodOptions.AlwaysInterleave) != 0;
    /// <summary>Whether the method is <see cref="OneWayAttribute"/>.</summary>
    public bool IsOneWay => (Options & GrainMethodOptions.OneWay) != 0;

    /// <inheritdoc/>
    public override string ToString() => $"{InterfaceName}.{MethodName}";
}
