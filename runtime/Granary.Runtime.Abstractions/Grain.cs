using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Granary.Runtime")]

namespace Granary.Runtime;

/// <summary>What the runtime gives a running activation: identity, services, timers and lifecycle control.</summary>
public interface IGrainContext
{
    /// <summary>This activation's grain identity.</summary>
    GrainId GrainId { get; }
    /// <summary>Factory for references to other grains.</summary>
    IGrainFactory GrainFactory { get; }
    /// <summary>The silo's service provider.</summary>
    IServiceProvider Services { get; }
    /// <summary>The clock the runtime uses (tests substitute a fake one).</summary>
    TimeProvider Time { get; }
    /// <summary>Asks the runtime to deactivate this activation once the current request completes.</summary>
    void DeactivateOnIdle();
    /// <summary>Registers a timer whose ticks run as turns of this activation and never overlap; disposed with the activation.</summary>
    IDisposable RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period);
}

/// <summary>Base class of grain implementations.</summary>
public abstract class Grain
{
    private IGrainContext? _context;

    /// <summary>The runtime context; available from the constructor's return onwards.</summary>
    public IGrainContext GrainContext
    {
        get => _context ?? throw new InvalidOperationException("This grain was not created by the Granary runtime; GrainContext is only set on activations.");
        internal set => _context = value;
    }

    /// <summary>This grain's identity.</summary>
    public GrainId GrainId => GrainContext.GrainId;

    /// <summary>The grain's key as a string (integer keys print in invariant culture).</summary>
    public string GetPrimaryKeyString() => GrainContext.GrainId.Key;

    /// <summary>The grain's key as a 64-bit integer; throws when the key is not an integer.</summary>
    public long GetPrimaryKeyLong() => long.Parse(GrainContext.GrainId.Key, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Factory for references to other grains.</summary>
    protected IGrainFactory GrainFactory => GrainContext.GrainFactory;

    /// <summary>Called after persistent state is loaded and before the first request is served.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called, best effort, before the activation is dropped; skipped on a crash.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation after the current request.</summary>
    protected void DeactivateOnIdle() => GrainContext.DeactivateOnIdle();

    /// <summary>Registers a non-overlapping timer on this activation.</summary>
    protected IDisposable RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
        => GrainContext.RegisterGrainTimer(callback, dueTime, period);
}
