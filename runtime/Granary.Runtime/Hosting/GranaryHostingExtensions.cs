using Granary.Runtime.Catalog;
using Granary.Runtime.Configuration;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Invocation;
using Granary.Runtime.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Runtime.Hosting;

/// <summary>Runs a Granary silo inside a .NET generic host.</summary>
public static class GranaryHostingExtensions
{
    /// <summary>Adds a Granary silo to the host: <c>builder.UseGranary(silo => silo.AddMemoryGrainStorageAsDefault().AddGrainsFromAssembly(...))</c>.</summary>
    public static IHostApplicationBuilder UseGranary(this IHostApplicationBuilder builder, Action<ISiloBuilder> configure)
    {
        builder.Services.AddGranary(builder.Configuration, configure);
        return builder;
    }

    /// <summary>Adds a Granary silo to a <see cref="IHostBuilder"/>.</summary>
    public static IHostBuilder UseGranary(this IHostBuilder builder, Action<ISiloBuilder> configure)
        => builder.ConfigureServices((context, services) => services.AddGranary(context.Configuration, configure));

    /// <summary>Adds the silo's services; may be called more than once (later calls add grains, providers and filters).</summary>
    public static IServiceCollection AddGranary(this IServiceCollection services, IConfiguration configuration, Action<ISiloBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        if (!services.Any(d => d.ServiceType == typeof(SiloMarker)))
        {
            services.AddSingleton<SiloMarker>();
            services.AddMetrics();
            services.TryAddSingleton(TimeProvider.System);
            services.AddOptions<GrainCollectionOptions>().Bind(configuration.GetSection(GrainCollectionOptions.SectionName)).ValidateOnStart();
            services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingOptions.SectionName)).ValidateOnStart();
            services.AddSingleton<IValidateOptions<GrainCollectionOptions>, GrainCollectionOptionsValidator>();
            services.AddSingleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator>();
            services.AddSingleton<RuntimeInstruments>();
            services.AddSingleton(sp => new GrainClassRegistry(sp.GetServices<GrainClassRegistration>()));
            services.AddSingleton(sp => new ActivationCatalog(
                sp,
                sp.GetRequiredService<GrainClassRegistry>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IOptions<GrainCollectionOptions>>(),
                sp.GetRequiredService<IOptions<MessagingOptions>>(),
                sp.GetServices<IIncomingGrainCallFilter>(),
                sp.GetRequiredService<RuntimeInstruments>(),
                sp.GetRequiredService<ILogger<ActivationCatalog>>()));
            services.AddSingleton(sp => new ActivationCollector(
                sp.GetRequiredService<ActivationCatalog>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IOptions<GrainCollectionOptions>>(),
                sp.GetRequiredService<ILogger<ActivationCollector>>()));
            services.TryAddSingleton<IGrainCallRouter, LocalGrainCallRouter>();
            services.AddSingleton<GrainCallDispatcher>();
            services.AddSingleton<IGrainCallInvoker>(sp => sp.GetRequiredService<GrainCallDispatcher>());
            services.AddSingleton<ILocalGrainInvoker>(sp => sp.GetRequiredService<GrainCallDispatcher>());
            services.AddSingleton<IGrainFactory>(sp => new GrainFactory(sp.GetRequiredService<GrainClassRegistry>(), sp.GetRequiredService<IGrainCallInvoker>()));
            services.AddHostedService(sp => new SiloLifecycleService(
                sp,
                sp.GetRequiredService<GrainClassRegistry>(),
                sp.GetRequiredService<ActivationCatalog>(),
                sp.GetRequiredService<ActivationCollector>(),
                sp.GetRequiredService<ILogger<SiloLifecycleService>>()));
        }
        configure(new SiloBuilder(services, configuration));
        return services;
    }

    private sealed class SiloMarker;
}

/// <summary>Starts the silo (checks grain classes and storage, starts idle collection) and deactivates everything on stop.</summary>
internal sealed class SiloLifecycleService(
    IServiceProvider services,
    GrainClassRegistry classes,
    ActivationCatalog catalog,
    ActivationCollector collector,
    ILogger<SiloLifecycleService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var storages = services.GetServices<GrainStorageRegistration>().Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var grainClass in classes.Classes)
            foreach (var storage in grainClass.StorageNames)
                if (!storages.Contains(storage))
                    throw new InvalidOperationException(
                        $"Grain class {grainClass.ClassType.FullName} uses storage provider '{storage}', which is not registered. " +
                        (storage == GrainClassInfo.DefaultStorageName
                            ? "Add a default provider, e.g. silo.AddMemoryGrainStorageAsDefault(), or name one in [PersistentState(\"state\", \"provider\")]."
                            : $"Add it, e.g. silo.AddMemoryGrainStorage(\"{storage}\")."));
        collector.Start();
        RuntimeLog.SiloStarted(logger, classes.Classes.Count);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        collector.Dispose();
        await catalog.DeactivateAllAsync(cancellationToken).ConfigureAwait(false);
    }
}
