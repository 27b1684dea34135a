using Granary.Runtime.Invocation;

namespace Granary.Runtime.Catalog;

/// <summary>Runs silo-wide incoming filters in registration order, then the grain's own filter, then the method.</summary>
internal sealed class IncomingCallContext(GrainId targetId, GrainRequest request, object grain, IIncomingGrainCallFilter[] filters) : IIncomingGrainCallContext
{
    private int _next;

    public GrainId TargetId { get; } = targetId;
    public GrainMethodDescriptor Method => Request.Method;
    public GrainRequest Request { get; } = request;
    public object Grain { get; } = grain;
    public object? Result { get; set; }

    public async Task Invoke()
    {
        var index = _next++;
        if (index < filters.Length)
        {
            await filters[index].Invoke(this);
        }
        else if (index == filters.Length && Grain is IIncomingGrainCallFilter own)
        {
            await own.Invoke(this);
        }
        else
        {
            Result = await Request.InvokeBoxedAsync(Grain);
        }
    }
}
