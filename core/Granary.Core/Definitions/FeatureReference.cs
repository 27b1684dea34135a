namespace Granary.Definitions;

/// <summary>A reference to one feature, written <c>view:feature</c>.</summary>
public readonly record struct FeatureReference(string View, string Feature)
{
    /// <inheritdoc/>
    public override string ToString() => $"{View}:{Feature}";

    /// <summary>The full feature name, <c>view__feature</c>.</summary>
    public string FullName => $"{View}__{Feature}";

    /// <summary>Parses <c>view:feature</c>; throws <see cref="FormatException"/> naming the value otherwise.</summary>
    public static FeatureReference Parse(string text)
    {
        var i = text.IndexOf(':');
        if (i <= 0 || i == text.Length - 1 || text.IndexOf(':', i + 1) >= 0)
            throw new FormatException($"feature reference '{text}' is not of the form view:feature (e.g. driver_stats:conv_rate)");
        return new FeatureReference(text[..i].Trim(), text[(i + 1)..].Trim());
    }
}
