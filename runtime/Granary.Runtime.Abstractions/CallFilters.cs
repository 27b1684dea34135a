using Granary.Runtime.Invocation;

namespace Granary.Runtime;

/// <summary>What a call filter sees of one grain call, and the way to continue it.</summary>
public interface IGrainCallContext
{
    /// <summary>The grain being called.</summary>
    GrainId TargetId { get; }
    /// <summary>The called interface method (names, ids and flags).</summary>
    GrainMethodDescriptor Method { get; }
    /// <summary>The request object carrying the arguments.</summary>
    GrainRequest Request { get; }
    /// <summary>The call's result once <see cref="Invoke"/> has completed; a filter may replace it.</summary>
    object? Result { get; set; }
    /// <summary>Runs the next filter, or the call itself after the last one. Every filter must await it exactly once.</summary>
    Task Invoke();
}

/// <summary>A call filter on the receiving silo, with access to the activation's grain instance.</summary>
public interface IIncomingGrainCallContext : IGrainCallContext
{
    /// <summary>The grain instance handling the call.</summary>
    object Grain { get; }
}

/// <summary>A call filter on the calling side, run before the call is routed.</summary>
public interface IOutgoingGrainCallContext : IGrainCallContext;

/// <summary>Intercepts calls arriving at grains on this silo (registered silo-wide, or implemented by a grain class for its own calls).</summary>
public interface IIncomingGrainCallFilter
{
    /// <summary>Handles one call; must await <see cref="IGrainCallContext.Invoke"/> to let it proceed.</summary>
    Task Invoke(IIncomingGrainCallContext context);
}

/// <summary>Intercepts calls leaving this process through grain references.</summary>
public interface IOutgoingGrainCallFilter
{
    /// <summary>Handles one call; must await <see cref="IGrainCallContext.Invoke"/> to let it proceed.</summary>
    Task Invoke(IOutgoingGrainCallContext context);
}
