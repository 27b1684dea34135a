using Granary.Core.Security;
using YamlDotNet.RepresentationModel;

namespace Granary.Repository;

/// <summary>
/// granary.yaml <c>masking:</c>: how features tagged <c>pii</c> reach a reader without READ_UNMASKED, unless their tag
/// names a mode itself. The hash mode's salt is a server secret and never in the repository.
/// </summary>
public sealed record MaskingConfig
{
    /// <summary>The default mode (<c>mode:</c>); default <see cref="MaskingMode.Mask"/>.</summary>
    public MaskingMode Mode { get; init; } = MaskingMode.Mask;

    /// <summary>What strings are masked to (<c>mask:</c>); default <see cref="PiiMasker.DefaultMask"/>.</summary>
    public string Mask { get; init; } = PiiMasker.DefaultMask;

    internal static MaskingConfig Read(YamlObject top)
    {
        if (top.Node("masking") is null) return new MaskingConfig();
        if (top.Node("masking") is not YamlMappingNode node)
        {
            top.Error("masking", "'masking' must be a mapping, e.g. masking: {mode: hash}");
            return new MaskingConfig();
        }
        var o = new YamlObject(top.File, node, "masking", top.Errors);
        if (o.Node("salt") is not null)
            o.Error("salt", "masking: 'salt' is a secret and does not belong in the repository; give it to the server as Granary:Gateway:Masking:Salt (env Granary__Gateway__Masking__Salt)");
        o.RejectUnknownKeys("mode", "mask", "salt");
        var config = new MaskingConfig();
        if (o.String("mode") is { } text)
        {
            if (PiiCatalog.ParseMode(text) is { } mode) config = config with { Mode = mode };
            else o.Error("mode", $"masking: mode is '{text}'; write mask (the default), hash or refuse");
        }
        if (o.Node("mask") is not null)
        {
            if (o.String("mask") is { Length: > 0 } mask) config = config with { Mask = mask };
            else o.Error("mask", "masking: mask is empty; write the text strings are masked to, e.g. mask: \"***\"");
        }
        return config;
    }
}
