using System.Reflection;
using Granary.Runtime.Catalog;
using Granary.Runtime.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Runtime.Hosting;

/// <summary>Configures a Granary silo: its grain classes, storage providers, filters and options.</summary>
public interface ISiloBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The host's configuration (options bind from the <c>Granary</c> section).</summary>
    IConfiguration Configuration { get; }
}

internal sealed class SiloBuilder(IServiceCollection services, IConfiguration configuration) : ISiloBuilder
{
    public IServiceCollection Services { get; } = services;
    public IConfiguration Configuration { get; } = configuration;
}

/// <summary>Extension methods that add grains, storage providers and call filters to a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>Adds every grain class of <paramref name="assembly"/> (non-abstract classes implementing a grain interface).</summary>
    public static ISiloBuilder AddGrainsFromAssembly(this ISiloBuilder builder, Assembly assembly)
    {
        foreach (var type in assembly.GetTypes())
            if (IsGrainClass(type)) builder.Services.AddSingleton(new GrainClassRegistration(type));
        return builder;
    }

    /// <summary>Adds one grain class.</summary>
    public static ISiloBuilder AddGrain<TGrain>(this ISiloBuilder builder) where TGrain : class, IGrain
    {
        if (!IsGrainClass(typeof(TGrain)))
            throw new ArgumentException($"{typeof(TGrain).FullName} is not a concrete grain class.", nameof(TGrain));
        builder.Services.AddSingleton(new GrainClassRegistration(typeof(TGrain)));
        return builder;
    }

    /// <summary>Adds an in-memory storage provider named <paramref name="name"/>.</summary>
    public static ISiloBuilder AddMemoryGrainStorage(this ISiloBuilder builder, string name)
        => builder.AddGrainStorage(name, _ => new MemoryGrainStorage(name));

    /// <summary>Adds an in-memory storage provider as the default (used by <c>[PersistentState]</c> without a provider name).</summary>
    public static ISiloBuilder AddMemoryGrainStorageAsDefault(this ISiloBuilder builder)
        => builder.AddMemoryGrainStorage(GrainClassInfo.DefaultStorageName);

    /// <summary>Adds any <see cref="IGrainStorage"/> under <paramref name="name"/>; provider packages build on this.</summary>
    public static ISiloBuilder AddGrainStorage(this ISiloBuilder builder, string name, Func<IServiceProvider, IGrainStorage> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) => factory(services));
        builder.Services.AddSingleton(new GrainStorageRegistration(name));
        return builder;
    }

    /// <summary>Adds a silo-wide incoming call filter (filters run in registration order).</summary>
    public static ISiloBuilder AddIncomingGrainCallFilter<TFilter>(this ISiloBuilder builder) where TFilter : class, IIncomingGrainCallFilter
    {
        builder.Services.AddSingleton<IIncomingGrainCallFilter, TFilter>();
        return builder;
    }

    /// <summary>Adds a silo-wide incoming call filter instance.</summary>
    public static ISiloBuilder AddIncomingGrainCallFilter(this ISiloBuilder builder, IIncomingGrainCallFilter filter)
    {
        builder.Services.AddSingleton(filter);
        return builder;
    }

    /// <summary>Adds an outgoing call filter (runs on every call made through this silo's grain references).</summary>
    public static ISiloBuilder AddOutgoingGrainCallFilter<TFilter>(this ISiloBuilder builder) where TFilter : class, IOutgoingGrainCallFilter
    {
        builder.Services.AddSingleton<IOutgoingGrainCallFilter, TFilter>();
        return builder;
    }

    /// <summary>Adds an outgoing call filter instance.</summary>
    public static ISiloBuilder AddOutgoingGrainCallFilter(this ISiloBuilder builder, IOutgoingGrainCallFilter filter)
    {
        builder.Services.AddSingleton(filter);
        return builder;
    }

    /// <summary>Configures an options class of the runtime (e.g. <c>GrainCollectionOptions</c>, <c>MessagingOptions</c>).</summary>
    public static ISiloBuilder Configure<TOptions>(this ISiloBuilder builder, Action<TOptions> configure) where TOptions : class
    {
        builder.Services.Configure(configure);
        return builder;
    }

    private static bool IsGrainClass(Type type)
        => type is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }
           && !typeof(Invocation.GrainReference).IsAssignableFrom(type) // generated proxies implement grain interfaces too
           && type.GetInterfaces().Any(i => typeof(IGrain).IsAssignableFrom(i) && i != typeof(IGrain) && i != typeof(IGrainWithStringKey) && i != typeof(IGrainWithIntegerKey));
}

/// <summary>A storage provider name registered on the silo (checked against grain classes at start-up).</summary>
internal sealed record GrainStorageRegistration(string Name);
