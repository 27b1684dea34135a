namespace Granary.Runtime;

/// <summary>Marker for every grain interface. Methods return <see cref="Task"/>, <see cref="Task{T}"/> or <see cref="ValueTask{T}"/>.</summary>
public interface IGrain;

/// <summary>A grain addressed by a string key.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>A grain addressed by a 64-bit integer key.</summary>
public interface IGrainWithIntegerKey : IGrain;

/// <summary>Obtains references to grains. Purely local and cheap: no activation or network happens until the first call.</summary>
public interface IGrainFactory
{
    /// <summary>A reference to the grain of interface <typeparamref name="TGrain"/> with the given string key.</summary>
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;

    /// <summary>A reference to the grain of interface <typeparamref name="TGrain"/> with the given integer key.</summary>
    TGrain GetGrain<TGrain>(long key) where TGrain : IGrainWithIntegerKey;

    /// <summary>A reference to the grain of interface <typeparamref name="TGrain"/> with an existing identity (e.g. received from another silo).</summary>
    TGrain GetGrain<TGrain>(GrainId grainId) where TGrain : IGrain;
}

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReasonCode
{
    /// <summary>No calls arrived for longer than the collection age.</summary>
    IdleCollection,
    /// <summary>The grain asked for it with <c>DeactivateOnIdle</c>.</summary>
    ApplicationRequested,
    /// <summary>The silo is shutting down gracefully.</summary>
    ShuttingDown,
    /// <summary>Activation failed or the grain's directory entry was lost.</summary>
    Error,
    /// <summary>Another activation of the same grain won registration.</summary>
    DuplicateActivation,
}

/// <summary>The reason passed to <c>OnDeactivateAsync</c>.</summary>
public readonly record struct DeactivationReason(DeactivationReasonCode Code, string Description);
