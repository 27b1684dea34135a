using Granary.Runtime.Catalog;
using Granary.Runtime.Cluster.Membership;
using Granary.Runtime.Cluster.Reminders;
using Granary.Runtime.Hosting;
using Granary.Runtime.Invocation;
using Granary.Runtime.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Runtime.Cluster.Hosting;

/// <summary>Turns a Granary silo into a cluster member: <c>silo.UseCluster(o => ...).UsePostgreSqlClustering(cs)</c>.</summary>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// Makes this silo join a cluster: binds options from <c>Granary:Cluster</c> (then <paramref name="configure"/>),
    /// routes calls by ring ownership and runs the membership protocol. Needs a membership table (Use*Clustering).
    /// </summary>
    public static ISiloBuilder UseCluster(this ISiloBuilder builder, Action<ClusterOptions>? configure = null)
    {
        var services = builder.Services;
        services.AddOptions<ClusterOptions>().Bind(builder.Configuration.GetSection(ClusterOptions.SectionName));
        if (configure is not null) services.Configure(configure);
        services.TryAddSingleton<ClusterSilo>();
        services.Replace(ServiceDescriptor.Singleton<IGrainCallRouter>(sp => sp.GetRequiredService<ClusterSilo>().Router));
        services.TryAddSingleton(sp =>
        {
            var silo = sp.GetRequiredService<ClusterSilo>();
            return new ReminderService(
                sp.GetService<IReminderTable>() ?? throw new InvalidOperationException("Reminders need a reminder table: add UseInMemoryReminders(table) or UsePostgreSqlReminders(connectionString) to the silo."),
                sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
                () => silo.View,
                () => silo.Router.Self,
                sp.GetRequiredService<IGrainCallInvoker>(),
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<ILogger<ReminderService>>());
        });
        // Registered after the local runtime's own hosted service: starts after it, stops before it.
        services.AddHostedService(sp => new ClusterHostedService(sp.GetRequiredService<ClusterSilo>()));
        return builder;
    }

    /// <summary>Uses a membership table shared in this process (tests, in-process clusters).</summary>
    public static ISiloBuilder UseInMemoryClustering(this ISiloBuilder builder, InMemoryMembershipTable table)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton<IMembershipTable>(table));
        return builder;
    }

    /// <summary>Uses any membership table implementation.</summary>
    public static ISiloBuilder UseMembershipTable(this ISiloBuilder builder, Func<IServiceProvider, IMembershipTable> factory)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }

    /// <summary>Uses a reminder table shared in this process (tests, in-process clusters).</summary>
    public static ISiloBuilder UseInMemoryReminders(this ISiloBuilder builder, InMemoryReminderTable table)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton<IReminderTable>(table));
        return builder;
    }

    /// <summary>Uses any reminder table implementation.</summary>
    public static ISiloBuilder UseReminderTable(this ISiloBuilder builder, Func<IServiceProvider, IReminderTable> factory)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }

    private sealed class ClusterHostedService(ClusterSilo silo) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => silo.StartAsync(cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => silo.StopAsync(cancellationToken);
    }
}
