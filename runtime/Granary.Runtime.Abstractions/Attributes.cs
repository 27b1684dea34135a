namespace Granary.Runtime;

/// <summary>The grain class may interleave any requests: a new call can start while another awaits.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>This interface method may always interleave with whatever the activation is running.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>This interface method does not change state: read-only calls may interleave with each other.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadOnlyAttribute : Attribute;

/// <summary>The caller does not wait: the call returns once queued, with no result or exception.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute;

/// <summary>Overrides the response timeout for one interface method, e.g. <c>[ResponseTimeout("00:05:00")]</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ResponseTimeoutAttribute(string timeout) : Attribute
{
    /// <summary>The timeout as parsed from the attribute's "hh:mm:ss" text.</summary>
    public TimeSpan Timeout { get; } = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A pool of up to <see cref="MaxLocalWorkers"/> local, unregistered activations per key, for pure fan-out work.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class StatelessWorkerAttribute(int maxLocalWorkers = 0) : Attribute
{
    /// <summary>Most activations per silo; 0 means <see cref="Environment.ProcessorCount"/>.</summary>
    public int MaxLocalWorkers { get; } = maxLocalWorkers;
}

/// <summary>Injects an <see cref="IPersistentState{T}"/> named <see cref="StateName"/> stored by the provider <see cref="StorageName"/>.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    /// <summary>The state's name within the grain (part of the storage key).</summary>
    public string StateName { get; } = stateName;
    /// <summary>The named storage provider; null means the default provider.</summary>
    public string? StorageName { get; } = storageName;
}

/// <summary>
/// Names the grain type of a grain class (the type half of its <see cref="GrainId"/>, and part of storage keys).
/// Without it the class's full name is used; set it to keep state when renaming or moving a class.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    /// <summary>The grain type name.</summary>
    public string Name { get; } = name;
}

/// <summary>Overrides the silo's collection age for one grain class, e.g. <c>[CollectionAgeLimit("02:00:00")]</c>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CollectionAgeLimitAttribute(string age) : Attribute
{
    /// <summary>How long an activation of this class may stay without calls, parsed from "hh:mm:ss".</summary>
    public TimeSpan Age { get; } = TimeSpan.Parse(age, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Activations of this grain class are never collected when idle (they still deactivate on request or shutdown).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class KeepAliveAttribute : Attribute;
