using System.Text.Json.Serialization;

namespace Granary.Definitions;

/// <summary>What a data rule checks on one feature's values.</summary>
public enum DataRuleCheck
{
    /// <summary>The value is present (not null).</summary>
    [JsonStringEnumMemberName("not_null")] NotNull,
    /// <summary>A number is at least <see cref="DataRule.Bound"/>.</summary>
    [JsonStringEnumMemberName("min")] Min,
    /// <summary>A number is at most <see cref="DataRule.Bound"/>.</summary>
    [JsonStringEnumMemberName("max")] Max,
    /// <summary>The value is one of <see cref="DataRule.Allowed"/>.</summary>
    [JsonStringEnumMemberName("allowed")] Allowed,
    /// <summary>A string matches <see cref="DataRule.Pattern"/> as a whole.</summary>
    [JsonStringEnumMemberName("pattern")] Pattern,
}

/// <summary>What a row breaking a rule gets, from mildest to strictest.</summary>
public enum DataRuleOutcome
{
    /// <summary>Served as it is, and counted.</summary>
    [JsonStringEnumMemberName("warn")] Warn,
    /// <summary>Set aside in the quarantine (not served, not written offline) for inspection, release or drop.</summary>
    [JsonStringEnumMemberName("quarantine")] Quarantine,
    /// <summary>The push (or stream event) fails naming the rule, the value and the row; a materialization drops the row and counts it against its gate.</summary>
    [JsonStringEnumMemberName("reject")] Reject,
}

/// <summary>One rule on one feature's values (a feature holds each check at most once).</summary>
/// <remarks>The check is the rule's JSON "name", so a registry diff keys a changed rule by it (<c>features.amount.rules.min.bound</c>).</remarks>
public sealed record DataRule
{
    /// <summary>What is checked.</summary>
    [JsonPropertyName("name")] public required DataRuleCheck Check { get; init; }
    /// <summary>What a breaking row gets.</summary>
    public DataRuleOutcome OnBreak { get; init; } = DataRuleOutcome.Reject;
    /// <summary>The inclusive bound of <see cref="DataRuleCheck.Min"/> and <see cref="DataRuleCheck.Max"/>.</summary>
    public double? Bound { get; init; }
    /// <summary>The allowed values of <see cref="DataRuleCheck.Allowed"/>, in their text form (parsed as the feature's type).</summary>
    [OmitWhenEmpty] public IReadOnlyList<string> Allowed { get; init; } = [];
    /// <summary>The regular expression of <see cref="DataRuleCheck.Pattern"/>; a value must match it as a whole.</summary>
    public string? Pattern { get; init; }

    /// <summary>The rule's YAML key: <c>not_null</c>, <c>min</c>, <c>max</c>, <c>allowed</c>, <c>pattern</c>.</summary>
    [JsonIgnore] public string Key => KeyOf(Check);

    /// <summary>The YAML key of <paramref name="check"/>.</summary>
    public static string KeyOf(DataRuleCheck check) => check switch
    {
        DataRuleCheck.NotNull => "not_null",
        DataRuleCheck.Min => "min",
        DataRuleCheck.Max => "max",
        DataRuleCheck.Allowed => "allowed",
        _ => "pattern",
    };

    /// <summary>The YAML name of <paramref name="outcome"/>.</summary>
    public static string NameOf(DataRuleOutcome outcome) => outcome switch
    {
        DataRuleOutcome.Warn => "warn",
        DataRuleOutcome.Quarantine => "quarantine",
        _ => "reject",
    };

    /// <summary>Parses <c>reject</c>, <c>quarantine</c> or <c>warn</c>.</summary>
    public static bool TryParseOutcome(string? text, out DataRuleOutcome outcome)
    {
        (var ok, outcome) = text switch
        {
            "reject" => (true, DataRuleOutcome.Reject),
            "quarantine" => (true, DataRuleOutcome.Quarantine),
            "warn" => (true, DataRuleOutcome.Warn),
            _ => (false, DataRuleOutcome.Reject),
        };
        return ok;
    }

    /// <summary>The outcome names, for messages.</summary>
    public const string OutcomeNames = "reject, quarantine, warn";
}

/// <summary>A feature view's quality gate on materialization: a run whose output falls short fails as a whole, before writing any value online.</summary>
public sealed record QualityGate
{
    /// <summary>The share (0 to 1) of non-null values every feature must reach among the rows a run would write; null: not checked.</summary>
    public double? Completeness { get; init; }
    /// <summary>The share (0 to 1) of rows read that a run may drop for breaking a <c>reject</c> rule; default 0 (any such row fails the run).</summary>
    public double MaxRejectedShare { get; init; }
}

/// <summary>Marks a collection property that the registry's JSON leaves out when empty, so objects without it keep their stored form.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OmitWhenEmptyAttribute : Attribute
{
    /// <summary>A <see cref="System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver"/> modifier applying the attribute.</summary>
    public static void Apply(System.Text.Json.Serialization.Metadata.JsonTypeInfo typeInfo)
    {
        foreach (var property in typeInfo.Properties)
            if (property.AttributeProvider?.IsDefined(typeof(OmitWhenEmptyAttribute), inherit: false) == true)
                property.ShouldSerialize = static (_, value) => value is System.Collections.ICollection { Count: > 0 };
    }
}
