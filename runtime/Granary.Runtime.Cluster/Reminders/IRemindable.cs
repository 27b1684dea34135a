namespace Granary.Runtime;

/// <summary>The state of a reminder tick passed to <see cref="IRemindable.ReceiveReminder"/>.</summary>
/// <param name="FirstTickTime">When the reminder was due to tick first.</param>
/// <param name="Period">The reminder's period.</param>
/// <param name="CurrentTickTime">When this tick was due.</param>
public readonly record struct TickStatus(DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset CurrentTickTime);

/// <summary>A grain that receives persistent reminders: implement it on grain classes that register reminders.</summary>
public interface IRemindable : IGrainWithStringKey
{
    /// <summary>Called on each tick of reminder <paramref name="reminderName"/>; activates the grain if needed.</summary>
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <summary>A handle on a registered reminder.</summary>
/// <param name="GrainId">The grain the reminder ticks.</param>
/// <param name="Name">The reminder's name within the grain.</param>
/// <param name="ETag">The stored row's version.</param>
public sealed record GrainReminder(GrainId GrainId, string Name, string ETag);
