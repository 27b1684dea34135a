using Microsoft.Extensions.Options;

namespace Granary.Runtime.Configuration;

/// <summary>Idle collection and activation lifecycle timing (Orleans' defaults).</summary>
public sealed class GrainCollectionOptions
{
    /// <summary>Configuration section bound to these options.</summary>
    public const string SectionName = "Granary:GrainCollection";

    /// <summary>Default <see cref="CollectionAge"/>: 15 minutes.</summary>
    public static readonly TimeSpan DefaultCollectionAge = TimeSpan.FromMinutes(15);
    /// <summary>Default <see cref="CollectionQuantum"/>: 1 minute.</summary>
    public static readonly TimeSpan DefaultCollectionQuantum = TimeSpan.FromMinutes(1);
    /// <summary>Default <see cref="ActivationTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultActivationTimeout = TimeSpan.FromSeconds(30);
    /// <summary>Default <see cref="DeactivationTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultDeactivationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>An activation that received no call for this long is deactivated. Default 15 minutes.</summary>
    public TimeSpan CollectionAge { get; set; } = DefaultCollectionAge;

    /// <summary>How often idle activations are looked for; an idle grain goes within age + quantum. Default 1 minute.</summary>
    public TimeSpan CollectionQuantum { get; set; } = DefaultCollectionQuantum;

    /// <summary>Longest time state loading plus <c>OnActivateAsync</c> may take before the activation fails. Default 30 seconds.</summary>
    public TimeSpan ActivationTimeout { get; set; } = DefaultActivationTimeout;

    /// <summary>Longest time <c>OnDeactivateAsync</c> may take (its token is cancelled then). Default 30 seconds.</summary>
    public TimeSpan DeactivationTimeout { get; set; } = DefaultDeactivationTimeout;
}

/// <summary>Call delivery settings (Orleans' defaults).</summary>
public sealed class MessagingOptions
{
    /// <summary>Configuration section bound to these options.</summary>
    public const string SectionName = "Granary:Messaging";

    /// <summary>Default <see cref="ResponseTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultResponseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Default <see cref="MaxInlineDepth"/>: 8 nested calls.</summary>
    public const int DefaultMaxInlineDepth = 8;

    /// <summary>Default <see cref="TurnWarningThreshold"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultTurnWarningThreshold = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a caller waits for a response before a <see cref="TimeoutException"/>; a late response is then dropped.
    /// Override per method with <see cref="ResponseTimeoutAttribute"/>. Default 30 seconds.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = DefaultResponseTimeout;

    /// <summary>
    /// A call to an idle local activation runs its first turn on the caller's thread (no queue hop); this bounds how
    /// deeply such calls nest before they are queued instead. 0 disables inline execution. Default 8.
    /// </summary>
    public int MaxInlineDepth { get; set; } = DefaultMaxInlineDepth;

    /// <summary>
    /// A queued turn (the code of a grain between two awaits) that runs longer than this is logged as a warning: it holds
    /// a thread-pool thread and its activation. Default 1 second.
    /// </summary>
    public TimeSpan TurnWarningThreshold { get; set; } = DefaultTurnWarningThreshold;
}

/// <summary>Checks <see cref="GrainCollectionOptions"/> at start-up.</summary>
internal sealed class GrainCollectionOptionsValidator : IValidateOptions<GrainCollectionOptions>
{
    public ValidateOptionsResult Validate(string? name, GrainCollectionOptions options)
    {
        var errors = new List<string>();
        if (options.CollectionAge <= TimeSpan.Zero)
            errors.Add($"GrainCollectionOptions.CollectionAge must be positive; got {options.CollectionAge}. Set it in '{GrainCollectionOptions.SectionName}' or with Configure<GrainCollectionOptions>.");
        if (options.CollectionQuantum <= TimeSpan.Zero)
            errors.Add($"GrainCollectionOptions.CollectionQuantum must be positive; got {options.CollectionQuantum}.");
        else if (options.CollectionQuantum > options.CollectionAge && options.CollectionAge > TimeSpan.Zero)
            errors.Add($"GrainCollectionOptions.CollectionQuantum ({options.CollectionQuantum}) must not exceed CollectionAge ({options.CollectionAge}); idle grains would outlive their age by more than the age itself.");
        if (options.ActivationTimeout <= TimeSpan.Zero)
            errors.Add($"GrainCollectionOptions.ActivationTimeout must be positive; got {options.ActivationTimeout}.");
        if (options.DeactivationTimeout <= TimeSpan.Zero)
            errors.Add($"GrainCollectionOptions.DeactivationTimeout must be positive; got {options.DeactivationTimeout}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Checks <see cref="MessagingOptions"/> at start-up.</summary>
internal sealed class MessagingOptionsValidator : IValidateOptions<MessagingOptions>
{
    public ValidateOptionsResult Validate(string? name, MessagingOptions options)
    {
        var errors = new List<string>();
        if (options.ResponseTimeout <= TimeSpan.Zero)
            errors.Add($"MessagingOptions.ResponseTimeout must be positive; got {options.ResponseTimeout}. Set it in '{MessagingOptions.SectionName}' or with Configure<MessagingOptions>.");
        if (options.TurnWarningThreshold <= TimeSpan.Zero)
            errors.Add($"MessagingOptions.TurnWarningThreshold must be positive; got {options.TurnWarningThreshold}.");
        if (options.MaxInlineDepth < 0)
            errors.Add($"MessagingOptions.MaxInlineDepth must be 0 or more; got {options.MaxInlineDepth}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
