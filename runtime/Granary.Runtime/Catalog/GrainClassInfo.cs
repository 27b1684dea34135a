using System.Reflection;
using Granary.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Runtime.Catalog;

/// <summary>Everything the runtime needs to know about one grain class, computed once at start-up (reflection only here).</summary>
internal sealed class GrainClassInfo
{
    /// <summary>The provider name used when <see cref="PersistentStateAttribute.StorageName"/> is null.</summary>
    public const string DefaultStorageName = "Default";

    private readonly ObjectFactory _factory;
    private readonly StateParameter[] _states;

    public GrainClassInfo(Type classType)
    {
        ClassType = classType;
        GrainType = classType.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? classType.FullName ?? classType.Name;
        IsReentrant = classType.IsDefined(typeof(ReentrantAttribute), inherit: true);
        if (classType.GetCustomAttribute<StatelessWorkerAttribute>(inherit: true) is { } worker)
            StatelessWorkerMax = worker.MaxLocalWorkers > 0 ? worker.MaxLocalWorkers : Environment.ProcessorCount;
        HasOwnIncomingFilter = typeof(IIncomingGrainCallFilter).IsAssignableFrom(classType);
        KeepAlive = classType.IsDefined(typeof(KeepAliveAttribute), inherit: true);
        if (classType.GetCustomAttribute<CollectionAgeLimitAttribute>(inherit: true) is { } ageLimit)
        {
            if (ageLimit.Age <= TimeSpan.Zero)
                throw new InvalidOperationException($"[CollectionAgeLimit] on {classType.FullName} is {ageLimit.Age}; it must be positive.");
            CollectionAge = ageLimit.Age;
        }
        GrainInterfaces = classType.GetInterfaces()
            .Where(i => typeof(IGrain).IsAssignableFrom(i) && i != typeof(IGrain) && i != typeof(IGrainWithStringKey) && i != typeof(IGrainWithIntegerKey))
            .ToArray();

        var constructor = SelectConstructor(classType);
        var states = new List<StateParameter>();
        foreach (var parameter in constructor.GetParameters())
        {
            if (parameter.GetCustomAttribute<PersistentStateAttribute>() is not { } attribute) continue;
            var type = parameter.ParameterType;
            if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(IPersistentState<>))
                throw new InvalidOperationException(
                    $"Parameter '{parameter.Name}' of {classType.FullName} has [PersistentState] but type {type.Name}; it must be IPersistentState<T>.");
            var create = typeof(GrainClassInfo).GetMethod(nameof(CreateState), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type.GetGenericArguments()[0])
                .CreateDelegate<Func<string, string, GrainId, IGrainStorage, PersistentStateContext, IPersistentStateLoader>>();
            states.Add(new StateParameter(attribute.StateName, attribute.StorageName ?? DefaultStorageName, type, create));
        }
        _states = [.. states];
        _factory = ActivatorUtilities.CreateFactory(classType, [.. states.Select(s => s.ParameterType)]);
    }

    public Type ClassType { get; }
    public string GrainType { get; }
    public bool IsReentrant { get; }
    /// <summary>Most local activations per key for [StatelessWorker] classes; 0 for ordinary grains.</summary>
    public int StatelessWorkerMax { get; }
    public bool IsStatelessWorker => StatelessWorkerMax > 0;
    public bool HasOwnIncomingFilter { get; }
    /// <summary>From <see cref="KeepAliveAttribute"/>: never collected when idle.</summary>
    public bool KeepAlive { get; }
    /// <summary>From <see cref="CollectionAgeLimitAttribute"/>: replaces the silo's collection age for this class.</summary>
    public TimeSpan? CollectionAge { get; }
    public Type[] GrainInterfaces { get; }
    public IEnumerable<string> StorageNames => _states.Select(s => s.StorageName);

    /// <summary>Constructs the grain through DI, with its <c>[PersistentState]</c> parameters bound to fresh states.</summary>
    public object Create(IServiceProvider services, GrainId grainId, PersistentStateContext stateContext, out IPersistentStateLoader[] states)
    {
        states = _states.Length == 0 ? [] : new IPersistentStateLoader[_states.Length];
        var arguments = new object[_states.Length];
        for (var i = 0; i < _states.Length; i++)
        {
            var parameter = _states[i];
            var storage = services.GetKeyedService<IGrainStorage>(parameter.StorageName)
                ?? throw new InvalidOperationException(
                    $"Grain class {ClassType.FullName} needs storage provider '{parameter.StorageName}' for state '{parameter.StateName}', which is not registered; " +
                    $"add it with silo.AddMemoryGrainStorage(\"{parameter.StorageName}\") (or the SQLite/Redis equivalent).");
            states[i] = parameter.Create(parameter.StateName, parameter.StorageName, grainId, storage, stateContext);
            arguments[i] = states[i];
        }
        return _factory(services, arguments);
    }

    private static IPersistentStateLoader CreateState<TState>(string stateName, string storageName, GrainId grainId, IGrainStorage storage, PersistentStateContext context)
        where TState : new()
        => new PersistentState<TState>(stateName, storageName, grainId, storage, context);

    private static ConstructorInfo SelectConstructor(Type classType)
    {
        var constructors = classType.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        if (constructors.Length == 0)
            throw new InvalidOperationException($"Grain class {classType.FullName} has no public constructor.");
        return constructors.FirstOrDefault(c => c.IsDefined(typeof(ActivatorUtilitiesConstructorAttribute)))
            ?? constructors.OrderByDescending(c => c.GetParameters().Length).First();
    }

    private sealed record StateParameter(
        string StateName,
        string StorageName,
        Type ParameterType,
        Func<string, string, GrainId, IGrainStorage, PersistentStateContext, IPersistentStateLoader> Create);
}

/// <summary>The grain classes of this silo, by grain type name and by grain interface.</summary>
internal sealed class GrainClassRegistry
{
    private readonly Dictionary<string, GrainClassInfo> _byGrainType = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, List<GrainClassInfo>> _byInterface = [];

    public GrainClassRegistry(IEnumerable<GrainClassRegistration> registrations)
    {
        foreach (var type in registrations.Select(r => r.ClassType).Distinct())
        {
            var info = new GrainClassInfo(type);
            if (_byGrainType.TryGetValue(info.GrainType, out var existing))
                throw new InvalidOperationException(
                    $"Grain classes {existing.ClassType.FullName} and {type.FullName} both have grain type '{info.GrainType}'; give one a different [GrainType].");
            _byGrainType.Add(info.GrainType, info);
            foreach (var grainInterface in info.GrainInterfaces)
            {
                if (!_byInterface.TryGetValue(grainInterface, out var list)) _byInterface[grainInterface] = list = [];
                list.Add(info);
            }
        }
    }

    public IReadOnlyCollection<GrainClassInfo> Classes => _byGrainType.Values;

    public GrainClassInfo? TryGetByGrainType(string grainType) => _byGrainType.GetValueOrDefault(grainType);

    public GrainClassInfo GetByGrainType(string grainType)
        => _byGrainType.TryGetValue(grainType, out var info)
            ? info
            : throw new InvalidOperationException(
                $"No grain class with grain type '{grainType}' is registered on this silo; known: {string.Join(", ", _byGrainType.Keys.Order())}. " +
                "Register grain classes with silo.AddGrainsFromAssembly(typeof(MyGrain).Assembly).");

    public GrainClassInfo GetByInterface(Type grainInterface)
    {
        if (!_byInterface.TryGetValue(grainInterface, out var classes))
            throw new InvalidOperationException(
                $"No registered grain class implements {grainInterface.FullName}. Register it with silo.AddGrainsFromAssembly(typeof(TheGrainClass).Assembly) or silo.AddGrain<TheGrainClass>().");
        if (classes.Count > 1)
            throw new InvalidOperationException(
                $"Several grain classes implement {grainInterface.FullName}: {string.Join(", ", classes.Select(c => c.ClassType.FullName))}; register only one of them on this silo.");
        return classes[0];
    }
}

/// <summary>A grain class added to the silo (registered in DI by the silo builder).</summary>
internal sealed record GrainClassRegistration(Type ClassType);
