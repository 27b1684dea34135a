using Granary.Runtime.Cluster.Reminders;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Runtime;

/// <summary>Persistent reminders on a grain: <c>this.RegisterOrUpdateReminder("tick", due, period)</c> in a grain implementing <see cref="IRemindable"/>.</summary>
public static class ReminderExtensions
{
    /// <summary>Registers (or replaces) reminder <paramref name="name"/>: first tick after <paramref name="dueTime"/>, then every <paramref name="period"/>.</summary>
    public static Task<GrainReminder> RegisterOrUpdateReminder(this IGrainContext context, string name, TimeSpan dueTime, TimeSpan period)
        => Service(context).RegisterOrUpdateAsync(context.GrainId, name, dueTime, period);

    /// <summary>Removes reminder <paramref name="name"/>; false when it did not exist.</summary>
    public static Task<bool> UnregisterReminder(this IGrainContext context, string name)
        => Service(context).UnregisterAsync(context.GrainId, name);

    /// <summary>Registers (or replaces) reminder <paramref name="name"/> of this grain.</summary>
    public static Task<GrainReminder> RegisterOrUpdateReminder(this Grain grain, string name, TimeSpan dueTime, TimeSpan period)
        => grain.GrainContext.RegisterOrUpdateReminder(name, dueTime, period);

    /// <summary>Removes reminder <paramref name="name"/> of this grain.</summary>
    public static Task<bool> UnregisterReminder(this Grain grain, string name)
        => grain.GrainContext.UnregisterReminder(name);

    private static ReminderService Service(IGrainContext context)
        => context.Services.GetService<ReminderService>()
           ?? throw new InvalidOperationException(
               $"Grain {context.GrainId} uses reminders, but the silo has no reminder service; configure the silo with UseCluster(...) and a reminder table (UseInMemoryReminders or UsePostgreSqlReminders).");
}
