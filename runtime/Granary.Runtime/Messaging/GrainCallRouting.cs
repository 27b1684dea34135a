using Granary.Runtime.Invocation;

namespace Granary.Runtime.Messaging;

/// <summary>
/// Decides where a grain call runs. The single-silo runtime routes everything locally; a cluster replaces this
/// service to send calls for grains owned by other silos through an <see cref="IGrainCallTransport"/>.
/// </summary>
public interface IGrainCallRouter
{
    /// <summary>The transport to the silo that owns <paramref name="grainId"/>, or null when this silo runs it.</summary>
    IGrainCallTransport? SelectRemote(GrainId grainId);
}

/// <summary>Carries requests to another silo and completes them from its responses (implemented by the cluster).</summary>
public interface IGrainCallTransport
{
    /// <summary>
    /// Sends <paramref name="request"/> (serialize it with <see cref="GrainRequest.WriteArguments"/> and
    /// <see cref="Serialization.RequestContextCodec"/>) and completes it with <see cref="GrainRequest.CompleteFromResponse"/>
    /// or <see cref="GrainRequest.Fail"/>. The dispatcher applies the response timeout around the returned task.
    /// </summary>
    ValueTask<TResult> InvokeAsync<TResult>(GrainId target, GrainRequest<TResult> request);

    /// <summary>Sends a one-way request; no response is expected.</summary>
    void SendOneWay(GrainId target, GrainRequest request);

    /// <summary>
    /// True when the transport itself fails each request with a <see cref="TimeoutException"/> once its response
    /// timeout passes (e.g. by scanning its pending calls); the dispatcher then skips its own per-call timer.
    /// </summary>
    bool AppliesResponseTimeout => false;
}

/// <summary>The single-silo router: every grain lives here.</summary>
public sealed class LocalGrainCallRouter : IGrainCallRouter
{
    /// <inheritdoc/>
    public IGrainCallTransport? SelectRemote(GrainId grainId) => null;
}
