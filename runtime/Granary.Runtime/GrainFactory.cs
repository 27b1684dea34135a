using System.Collections.Concurrent;
using System.Globalization;
using Granary.Runtime.Catalog;
using Granary.Runtime.Invocation;

namespace Granary.Runtime;

/// <summary>Creates grain references from generated proxies: a dictionary lookup per interface, no reflection.</summary>
internal sealed class GrainFactory(GrainClassRegistry classes, IGrainCallInvoker invoker) : IGrainFactory
{
    private readonly ConcurrentDictionary<Type, (GrainInterfaceDescriptor Descriptor, string GrainType)> _interfaces = new();

    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(key);
        return Create<TGrain>(key);
    }

    public TGrain GetGrain<TGrain>(long key) where TGrain : IGrainWithIntegerKey
        => Create<TGrain>(key.ToString(CultureInfo.InvariantCulture));

    public TGrain GetGrain<TGrain>(GrainId grainId) where TGrain : IGrain
    {
        var descriptor = Resolve(typeof(TGrain)).Descriptor;
        return (TGrain)(object)descriptor.CreateProxy(invoker, grainId);
    }

    private TGrain Create<TGrain>(string key)
    {
        var (descriptor, grainType) = Resolve(typeof(TGrain));
        return (TGrain)(object)descriptor.CreateProxy(invoker, new GrainId(grainType, key));
    }

    private (GrainInterfaceDescriptor Descriptor, string GrainType) Resolve(Type grainInterface)
    {
        if (_interfaces.TryGetValue(grainInterface, out var entry)) return entry;
        var descriptor = GrainInterfaceRegistry.Find(grainInterface)
            ?? throw new InvalidOperationException(
                $"No generated proxy for {grainInterface.FullName}. Reference Granary.Runtime.CodeGenerator as an analyzer in the project that declares it " +
                "(<ProjectReference Include=\".../Granary.Runtime.CodeGenerator.csproj\" OutputItemType=\"Analyzer\" ReferenceOutputAssembly=\"false\" />).");
        var grainType = classes.GetByInterface(grainInterface).GrainType;
        return _interfaces.GetOrAdd(grainInterface, (descriptor, grainType));
    }
}
