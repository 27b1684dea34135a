using Granary.Definitions;
using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary>
/// Data rules and quality gates in the repository: read beside Feast's schema entries, kept through the registry's JSON and
/// diff, and refused by apply's validation (file, line, the offending value, the fix) when they do not fit their field.
/// </summary>
public sealed class DataRuleDefinitionTests : IDisposable
{
    private const string File = "features/payments.yaml";
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    // A push-fed view beside the sample's; {rules} and {gate} are spliced in per test.
    private void WriteView(string amountRules, string gate = "", string countryRules = "")
    {
        _repo.Write(File, $"""
            sources:
              - name: payments_source
                type: file
                path: data/payments.parquet
                timestamp_field: event_timestamp
            feature_views:
              - name: payments
                entities: [driver]
                source: payments_source
            {gate}
                schema:
                  - name: amount
                    type: Float64
            {amountRules}
                  - name: country
                    type: String
            {countryRules}
                  - name: score
                    type: Float32

            """);
    }

    private const string Indent = "        ";

    private static string Rules(params string[] lines) => Indent + "rules:\n" + string.Join("\n", lines.Select(l => Indent + "  " + l));

    private async Task<RepositoryValidationException> InvalidAsync()
        => await Assert.ThrowsAsync<RepositoryValidationException>(() => RepositoryValidator.ValidateAsync(_repo.Load()));

    private FeatureView Payments() => _repo.Load().FeatureViews.Single(v => v.Value.Name == "payments").Value;

    [Fact]
    public void Rules_read_in_short_and_long_form_with_the_field_default_outcome()
    {
        WriteView(Rules("not_null: true", "min: 0", "max: {value: 1000000, on_break: warn}", "on_break: quarantine"),
            "    quality_gate: {completeness: 0.95, max_rejected_share: 0.01}",
            Rules("allowed: {values: [DE, FR], on_break: warn}", "pattern: \"[A-Z]{2}\"", "not_null: reject"));
        var view = Payments();
        Assert.Equal(
        [
            new DataRule { Check = DataRuleCheck.NotNull, OnBreak = DataRuleOutcome.Quarantine },
            new DataRule { Check = DataRuleCheck.Min, Bound = 0, OnBreak = DataRuleOutcome.Quarantine },
            new DataRule { Check = DataRuleCheck.Max, Bound = 1_000_000, OnBreak = DataRuleOutcome.Warn },
        ], view.Features[0].Rules.Select(r => r with { Allowed = [] }));
        var country = view.Features[1].Rules;
        Assert.Equal(["not_null", "allowed", "pattern"], country.Select(r => r.Key));
        Assert.Equal(["DE", "FR"], country[1].Allowed);
        Assert.Equal(DataRuleOutcome.Warn, country[1].OnBreak);
        Assert.Equal(DataRuleOutcome.Reject, country[0].OnBreak);
        Assert.Equal(DataRuleOutcome.Reject, country[2].OnBreak); // the default when the field names none
        Assert.Empty(view.Features[2].Rules);
        Assert.Equal(new QualityGate { Completeness = 0.95, MaxRejectedShare = 0.01 }, view.QualityGate);
    }

    [Fact]
    public async Task Rules_survive_the_registry_json_and_a_field_without_rules_keeps_its_stored_form()
    {
        WriteView(Rules("min: 0", "allowed: [1, 2.5]"), "    quality_gate: {completeness: 0.9}");
        await RepositoryValidator.ValidateAsync(_repo.Load());
        var view = Payments();
        var json = RegistryJson.SerializeObject(view);
        Assert.Contains("\"rules\":[{\"name\":\"min\",\"onBreak\":\"reject\",\"bound\":0}", json);
        Assert.DoesNotContain("\"rules\":[]", json); // country and score have none: their JSON is as before rules existed
        var back = (FeatureView)System.Text.Json.JsonSerializer.Deserialize(json, typeof(FeatureView), RegistryJson.Options)!;
        Assert.Equal(json, RegistryJson.SerializeObject(back));
        Assert.Equal(["1", "2.5"], back.Features[0].Rules[1].Allowed);
    }

    [Fact]
    public void A_rule_change_shows_in_the_plan_keyed_by_feature_and_check()
    {
        WriteView(Rules("min: 0"));
        var before = Snapshot(Payments());
        WriteView(Rules("min: {value: 0.01, on_break: quarantine}", "not_null: warn"), "    quality_gate: {completeness: 0.99}");
        var after = Snapshot(Payments());
        var change = Assert.Single(RegistryDiff.Compute(before, after).Changes);
        Assert.Equal(
        [
            new FieldChange("features.amount.rules.min.bound", "0", "0.01"),
            new FieldChange("features.amount.rules.min.on_break", "reject", "quarantine"),
            new FieldChange("features.amount.rules.not_null.name", null, "not_null"),
            new FieldChange("features.amount.rules.not_null.on_break", null, "warn"),
            new FieldChange("quality_gate.completeness", null, "0.99"),
            new FieldChange("quality_gate.max_rejected_share", null, "0"),
        ], change.Fields);

        static RegistrySnapshot Snapshot(FeatureView view) => new() { Project = "demo", Version = 1, FeatureViews = [view] };
    }

    [Fact]
    public async Task Min_on_a_string_field_is_refused_at_its_line()
    {
        WriteView("", countryRules: Rules("min: 3"));
        var line = _repo.LineOf(File, "min: 3");
        var e = await InvalidAsync();
        Assert.Equal($"{File}:{line}: feature view 'payments' field 'country' (String): min needs a number field (Int32, Int64, Float32, Float64); remove min or use allowed/pattern",
            Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public async Task A_pattern_on_a_number_and_a_regex_that_does_not_compile_are_refused()
    {
        WriteView(Rules("pattern: \"[0-9]+\""), countryRules: Rules("pattern: \"[A-Z\""));
        var e = await InvalidAsync();
        Assert.Equal(2, e.Errors.Count);
        Assert.Equal($"{File}:{_repo.LineOf(File, "pattern: \"[0-9]+\"")}: feature view 'payments' field 'amount' (Float64): pattern needs a String field; use min/max or allowed for Float64",
            e.Errors[0].ToString());
        Assert.StartsWith($"{File}:{_repo.LineOf(File, "pattern: \"[A-Z\"")}: feature view 'payments' field 'country' (String): pattern '[A-Z' is not a usable regular expression (",
            e.Errors[1].ToString());
    }

    [Fact]
    public async Task An_allowed_value_not_of_the_field_type_is_named()
    {
        WriteView(Rules("allowed: [1, two]"));
        var e = await InvalidAsync();
        Assert.Equal($"{File}:{_repo.LineOf(File, "allowed: [1, two]")}: feature view 'payments' field 'amount' (Float64): allowed value 'two' is not a Float64; write it as the field's type",
            Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public async Task Gate_shares_outside_zero_to_one_are_refused()
    {
        WriteView("", "    quality_gate: {completeness: 1.5}");
        var e = await InvalidAsync();
        Assert.Equal($"{File}:{_repo.LineOf(File, "quality_gate")}: feature view 'payments': quality_gate completeness 1.5 is not a share; give a number from 0 to 1 (e.g. 0.95 for 95 % non-null)",
            Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public void Shape_errors_name_the_key_and_the_accepted_forms()
    {
        WriteView(Rules("minimum: 0", "max: lots", "not_null: maybe", "on_break: drop"));
        var e = Assert.Throws<RepositoryValidationException>(_repo.Load);
        var messages = e.Errors.Select(x => x.Message).ToList();
        Assert.Contains("feature view 'payments' field 'amount' rules: unknown key 'minimum'; known: not_null, min, max, allowed, pattern, on_break", messages);
        Assert.Contains("feature view 'payments' field 'amount' rules: max 'lots' is not a number; write it like max: 0 or max: {value: 0, on_break: quarantine}", messages);
        Assert.Contains("feature view 'payments' field 'amount' rules: not_null 'maybe' must be true, false or an outcome (reject, quarantine, warn)", messages);
        Assert.Contains("feature view 'payments' field 'amount' rules: on_break 'drop' is not an outcome; use reject, quarantine, warn", messages);
        Assert.All(e.Errors, x => Assert.Equal(File, x.Location.File));
    }

    [Fact]
    public void Rules_are_refused_on_request_source_fields()
    {
        _repo.Write(File, """
            sources:
              - name: payment_request
                type: request
                schema:
                  - name: amount
                    type: Float64
                    rules: {min: 0}
            """);
        var e = Assert.Throws<RepositoryValidationException>(_repo.Load);
        Assert.Contains("unknown key 'rules'; known: name, type, description", Assert.Single(e.Errors).Message);
    }
}
