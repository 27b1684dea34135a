using System.ComponentModel;

namespace Granary.Runtime.Invocation;

/// <summary>
/// The runtime's entry point for calls made through grain references. The silo implements it with one dispatch path:
/// outgoing filters, then a router that decides between the local catalog and a remote transport.
/// </summary>
public interface IGrainCallInvoker
{
    /// <summary>Sends <paramref name="request"/> to <paramref name="target"/> and returns its result.</summary>
    ValueTask<TResult> InvokeAsync<TResult>(GrainReference target, GrainRequest<TResult> request);

    /// <summary>Sends a one-way <paramref name="request"/>: returns once it is queued, ignoring result and errors.</summary>
    void InvokeOneWay(GrainReference target, GrainRequest request);
}

/// <summary>Base class of generated grain proxies: a cheap, local handle on a grain identity.</summary>
public abstract class GrainReference : IEquatable<GrainReference>
{
    /// <summary>Creates a reference; generated proxies call this.</summary>
    protected GrainReference(IGrainCallInvoker invoker, GrainId grainId)
    {
        Invoker = invoker;
        GrainId = grainId;
    }

    /// <summary>The referenced grain.</summary>
    public GrainId GrainId { get; }

    /// <summary>The runtime that carries this reference's calls.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IGrainCallInvoker Invoker { get; }

    /// <summary>The grain interface this proxy implements.</summary>
    public abstract Type InterfaceType { get; }

    /// <summary>
    /// Router-owned cache of the resolved call target (e.g. the local activation), so repeated calls through one
    /// reference skip the catalog lookup. The router validates it on every use.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public object? CachedTarget;

    /// <inheritdoc/>
    public bool Equals(GrainReference? other) => other is not null && GrainId == other.GrainId && InterfaceType == other.InterfaceType;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GrainReference other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => GrainId.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"{InterfaceType.Name}:{GrainId}";
}
