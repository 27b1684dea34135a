using Granary.Core.Security;
using Granary.Repository;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Security;

/// <summary>
/// How the gateway masks features tagged <c>pii</c> for readers without READ_UNMASKED (<c>Granary:Gateway:Masking</c>;
/// <see cref="Mode"/> and <see cref="Mask"/> default to granary.yaml's <c>masking:</c>). The salt is a server secret: give
/// it by environment (<c>Granary__Gateway__Masking__Salt</c>), never in the repository.
/// </summary>
public sealed class PiiMaskingOptions
{
    /// <summary>The mode of features whose <c>pii</c> tag names none. Default <see cref="MaskingMode.Mask"/>.</summary>
    public MaskingMode Mode { get; set; } = MaskingMode.Mask;

    /// <summary>What strings are masked to. Default <see cref="PiiMasker.DefaultMask"/>.</summary>
    public string Mask { get; set; } = PiiMasker.DefaultMask;

    /// <summary>The hash mode's key (at least <see cref="PiiMasker.MinimumSaltLength"/> characters); required when <see cref="Mode"/> is hash.</summary>
    public string? Salt { get; set; }

    /// <summary>Takes the mode and mask text of granary.yaml's <c>masking:</c>.</summary>
    public void UseRepository(MaskingConfig masking)
    {
        Mode = masking.Mode;
        Mask = masking.Mask;
    }
}

/// <summary>Fails start-up on masking settings that cannot work, naming the key and the fix.</summary>
public sealed class PiiMaskingOptionsValidator : IValidateOptions<GatewayOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var masking = options.Masking;
        var section = GatewayOptions.SectionName + ":Masking";
        var failures = new List<string>();
        if (!Enum.IsDefined(masking.Mode))
            failures.Add($"{section}:Mode '{masking.Mode}' is not a masking mode; use Mask, Hash or Refuse");
        if (string.IsNullOrEmpty(masking.Mask))
            failures.Add($"{section}:Mask is empty; give the text strings are masked to, e.g. ***");
        if (!string.IsNullOrEmpty(masking.Salt) && masking.Salt.Length < PiiMasker.MinimumSaltLength)
            failures.Add($"{section}:Salt is {masking.Salt.Length} characters long; use a random secret of at least {PiiMasker.MinimumSaltLength} (e.g. openssl rand -hex 32)");
        if (masking.Mode == MaskingMode.Hash && string.IsNullOrEmpty(masking.Salt))
            failures.Add($"{section}:Mode is Hash (masking: {{mode: hash}} in granary.yaml) but no salt is set; set {section}:Salt " +
                         $"(env Granary__Gateway__Masking__Salt) to a random secret of at least {PiiMasker.MinimumSaltLength} characters, kept out of the repository");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Registers PII masking on the gateway.</summary>
public static class PiiMaskingServices
{
    /// <summary>Adds <see cref="PiiMaskingPolicy"/> and the start-up check of <see cref="PiiMaskingOptions"/>.</summary>
    public static IServiceCollection AddGranaryPiiMasking(this IServiceCollection services)
    {
        services.TryAddSingleton<PiiMaskingPolicy>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, PiiMaskingOptionsValidator>());
        return services;
    }
}
