using Granary.Definitions;
using Granary.Quality;

namespace Granary.Repository;

public static partial class RepositoryValidator
{
    // Rules must fit their field's type (min/max on numbers, pattern on strings, allowed values of the field's type), each
    // check once per field, and a quality gate's shares lie in [0, 1].
    private static void CheckDataRules(Defined<FeatureView> d, List<RepositoryError> errors)
    {
        var v = d.Value;
        foreach (var f in v.Features)
        {
            var seen = new HashSet<DataRuleCheck>();
            foreach (var rule in f.Rules)
            {
                var at = d.At(d.Fields.ContainsKey($"schema[{f.Name}].rules") ? $"schema[{f.Name}].rules" : $"schema[{f.Name}]");
                if (!seen.Add(rule.Check))
                    errors.Add(new RepositoryError(at, $"feature view '{v.Name}' field '{f.Name}' has the rule {rule.Key} twice; keep one"));
                else if (DataRuleValidation.Problem(f, rule) is { } problem)
                    errors.Add(new RepositoryError(at, $"feature view '{v.Name}' {problem}"));
            }
        }
        if (v.QualityGate is { } gate && DataRuleValidation.Problem(gate) is { } gateProblem)
            errors.Add(new RepositoryError(d.At("quality_gate"), $"feature view '{v.Name}': {gateProblem}"));
    }
}
