namespace Granary.Runtime;

/// <summary>A grain's identity: its type name plus its key, printed <c>type/key</c>.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Type}/{Key}";
}
