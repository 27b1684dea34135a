using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Granary.Runtime.Invocation;

/// <summary>What the code generator emits for one grain interface: proxy factory, method descriptors and request factory.</summary>
/// <param name="InterfaceType">The grain interface.</param>
/// <param name="InterfaceName">Its full name.</param>
/// <param name="InterfaceId">Stable id (hash of the full name).</param>
/// <param name="Methods">Every method the proxy implements, including inherited ones.</param>
/// <param name="CreateProxy">Creates a proxy for one grain identity.</param>
/// <param name="CreateRequest">Creates an empty request for a method id (receiving side of remote calls); null for unknown ids.</param>
public sealed record GrainInterfaceDescriptor(
    Type InterfaceType,
    string InterfaceName,
    int InterfaceId,
    IReadOnlyList<GrainMethodDescriptor> Methods,
    Func<IGrainCallInvoker, GrainId, GrainReference> CreateProxy,
    Func<int, GrainRequest?> CreateRequest);

/// <summary>
/// Process-wide table of generated grain interfaces, filled by the generated module initializer of each assembly
/// that declares grain interfaces. Lookups never scan assemblies.
/// </summary>
public static class GrainInterfaceRegistry
{
    private static readonly ConcurrentDictionary<Type, GrainInterfaceDescriptor> ByType = new();
    private static readonly ConcurrentDictionary<int, GrainInterfaceDescriptor> ById = new();

    /// <summary>Registers a generated interface; called by generated code.</summary>
    public static void Register(GrainInterfaceDescriptor descriptor)
    {
        ByType[descriptor.InterfaceType] = descriptor;
        if (!ById.TryAdd(descriptor.InterfaceId, descriptor) && ById[descriptor.InterfaceId].InterfaceType != descriptor.InterfaceType)
            throw new InvalidOperationException(
                $"Grain interfaces {ById[descriptor.InterfaceId].InterfaceName} and {descriptor.InterfaceName} have the same interface id {descriptor.InterfaceId}; rename one of them.");
    }

    /// <summary>The descriptor of <paramref name="interfaceType"/>, or null when no proxy was generated for it.</summary>
    public static GrainInterfaceDescriptor? Find(Type interfaceType)
    {
        if (ByType.TryGetValue(interfaceType, out var descriptor)) return descriptor;
        // The generated module initializer runs when its assembly's module is first touched; make sure it has.
        RuntimeHelpers.RunModuleConstructor(interfaceType.Module.ModuleHandle);
        return ByType.GetValueOrDefault(interfaceType);
    }

    /// <summary>The descriptor with <paramref name="interfaceId"/>, or null.</summary>
    public static GrainInterfaceDescriptor? Find(int interfaceId) => ById.GetValueOrDefault(interfaceId);

    /// <summary>Creates an empty request for a remote call; throws a clear error for unknown ids.</summary>
    public static GrainRequest CreateRequest(int interfaceId, int methodId)
    {
        var descriptor = Find(interfaceId)
            ?? throw new InvalidOperationException($"No grain interface with id {interfaceId} is known in this process; is its assembly loaded and built with Granary.Runtime.CodeGenerator?");
        return descriptor.CreateRequest(methodId)
            ?? throw new InvalidOperationException($"Grain interface {descriptor.InterfaceName} has no method with id {methodId}; are both silos running the same build?");
    }
}
