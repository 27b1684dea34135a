using Granary.Core.Security;
using Granary.Definitions;
using Granary.Repository;
using Granary.Testing;

namespace Granary.Registry.Tests;

/// <summary>
/// Permissions in the repository's YAML: read as Feast's permission model (feast/permissions/permission.py), refused
/// with file and line when malformed, decided deny by default, and versioned by apply like every other object.
/// </summary>
public sealed class PermissionTests
{
    private static readonly RepositoryConfig Config = new() { Project = "perm" };

    private static FeatureRepository Parse(string yaml) => FeatureRepositoryLoader.Parse("/repo", Config, [("permissions.yaml", yaml)], new Dictionary<string, string>());

    private const string IssueExample = """
        permissions:
          - name: ranking-readers
            types: [feature_view, on_demand_feature_view, feature_service]
            name_patterns: ["driver_.*"]
            required_tags: {team: drivers}
            actions: [DESCRIBE, READ_ONLINE, READ_OFFLINE]
            policy: {roles: [ranking-service]}
        """;

    [Fact]
    public void A_permission_reads_types_patterns_tags_actions_and_roles()
    {
        var permission = Assert.Single(Parse(IssueExample).Permissions).Value;
        Assert.Equal("ranking-readers", permission.Name);
        Assert.Equal(["feature_view", "on_demand_feature_view", "feature_service"], permission.Types);
        Assert.Equal(["driver_.*"], permission.NamePatterns);
        Assert.Equal("drivers", permission.RequiredTags["team"]);
        Assert.Equal([PermissionAction.Describe, PermissionAction.ReadOnline, PermissionAction.ReadOffline], permission.Actions);
        Assert.Equal(["ranking-service"], permission.Roles);
    }

    [Fact]
    public void ALL_grants_Feasts_eight_actions_but_not_erasure_or_unmasked_reads()
    {
        var permission = Assert.Single(Parse("permissions:\n  - name: admins\n    actions: [ALL]\n    policy: {roles: [admin]}\n").Permissions).Value;
        // Feast's ALL_ACTIONS is its eight AuthzedAction values (sdk/python/feast/permissions/action.py).
        Assert.Equal(Enum.GetValues<PermissionAction>().Except([PermissionAction.Erase, PermissionAction.ReadUnmasked]), permission.Actions);
        var privileged = Assert.Single(Parse("permissions:\n  - name: dpo\n    actions: [ERASE, read_unmasked]\n    policy: {roles: [dpo]}\n").Permissions).Value;
        Assert.Equal([PermissionAction.Erase, PermissionAction.ReadUnmasked], privileged.Actions);
        Assert.Empty(permission.Types); // no types: every kind, as Feast's ALL_RESOURCE_TYPES default
    }

    [Fact]
    public void A_malformed_permission_is_refused_naming_the_file_the_line_and_the_fix()
    {
        var error = Assert.Throws<RepositoryValidationException>(() => Parse("""
            permissions:
              - name: bad
                types: [feature_table]
                name_patterns: ["driver_("]
                actions: [READ, READ_ONLINE]
              - name: no-roles
                actions: [DESCRIBE]
                policy: {roles: []}
            """));
        var text = error.Message;
        Assert.Contains("permissions.yaml:3", text);
        Assert.Contains("type 'feature_table' is unknown; known: data_source, entity, feature_service, feature_view, on_demand_feature_view, permission, project", text);
        Assert.Contains("permissions.yaml:4", text);
        Assert.Contains("name pattern 'driver_(' is not a regular expression", text);
        Assert.Contains("permissions.yaml:5", text);
        Assert.Contains("action 'READ' is unknown; known: CREATE, DESCRIBE, UPDATE, DELETE, READ_ONLINE, READ_OFFLINE, WRITE_ONLINE, WRITE_OFFLINE", text);
        Assert.Contains("'policy' is required", text);
        Assert.Contains("permissions.yaml:8", text);
        Assert.Contains("permission 'no-roles': policy names no role", text);
    }

    [Fact]
    public void Definitions_sent_without_files_are_checked_too()
    {
        var snapshot = new RegistrySnapshot
        {
            Project = "perm",
            Permissions = [new Permission { Name = "p", Types = ["table"], NamePatterns = ["("], Actions = [], Roles = [] }],
        };
        var error = Assert.Throws<RepositoryValidationException>(() =>
            RepositoryValidator.ValidateAsync(FeatureRepository.FromSnapshot(snapshot, "apply request")).GetAwaiter().GetResult());
        Assert.Contains("type 'table' is unknown", error.Message);
        Assert.Contains("name pattern '(' is not a regular expression", error.Message);
        Assert.Contains("grants no action", error.Message);
        Assert.Contains("names no role", error.Message);
    }

    private static Permission Grant(string name, string role, PermissionAction[] actions, string[]? types = null, string[]? patterns = null, Dictionary<string, string>? tags = null)
        => new() { Name = name, Roles = [role], Actions = actions, Types = types ?? [], NamePatterns = patterns ?? [], RequiredTags = tags ?? [] };

    private static readonly IReadOnlyDictionary<string, string> NoTags = new Dictionary<string, string>();

    [Fact]
    public void Name_patterns_match_whole_names()
    {
        // Feast matches with re.fullmatch (sdk/python/feast/permissions/matcher.py line 81, resource_match_config).
        Permission[] permissions = [Grant("p", "r", [PermissionAction.ReadOnline], patterns: ["driver", "cust.*"])];
        Assert.True(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOnline, PermissionRules.FeatureView, "driver", NoTags));
        Assert.False(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOnline, PermissionRules.FeatureView, "driver_stats", NoTags));
        Assert.False(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOnline, PermissionRules.FeatureView, "my_driver", NoTags));
        Assert.True(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOnline, PermissionRules.FeatureView, "customer_profile", NoTags));
    }

    [Fact]
    public void Every_required_tag_must_be_carried_with_its_value()
    {
        // Feast: each required tag must equal the resource's value (matcher.py resource_match_config, the required_tags loop).
        Permission[] permissions = [Grant("p", "r", [PermissionAction.Describe], tags: new() { ["team"] = "drivers", ["tier"] = "gold" })];
        bool Describe(Dictionary<string, string> tags) => PermissionRules.Allows(permissions, ["r"], PermissionAction.Describe, PermissionRules.Entity, "driver", tags);
        Assert.True(Describe(new() { ["team"] = "drivers", ["tier"] = "gold", ["extra"] = "x" }));
        Assert.False(Describe(new() { ["team"] = "drivers" }));
        Assert.False(Describe(new() { ["team"] = "drivers", ["tier"] = "silver" }));
    }

    [Fact]
    public void Types_and_actions_narrow_what_a_permission_covers()
    {
        Permission[] permissions = [Grant("p", "r", [PermissionAction.ReadOnline], types: [PermissionRules.FeatureService])];
        Assert.True(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOnline, PermissionRules.FeatureService, "s", NoTags));
        Assert.False(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOnline, PermissionRules.FeatureView, "s", NoTags));
        Assert.False(PermissionRules.Allows(permissions, ["r"], PermissionAction.ReadOffline, PermissionRules.FeatureService, "s", NoTags));
    }

    [Fact]
    public void One_granting_permission_is_enough_and_a_role_the_principal_lacks_grants_nothing()
    {
        // Feast's decision: one matching permission that grants decides (sdk/python/feast/permissions/decision.py,
        // DecisionEvaluator; tests/unit/permissions/test_decision.py: DecisionEvaluator(3) decides True on the first True vote).
        Permission[] permissions =
        [
            Grant("admins", "admin", [PermissionAction.WriteOnline]),
            Grant("writers", "writer", [PermissionAction.WriteOnline]),
        ];
        Assert.True(PermissionRules.Allows(permissions, ["writer"], PermissionAction.WriteOnline, PermissionRules.FeatureView, "v", NoTags));
        Assert.True(PermissionRules.Allows(permissions, ["reader", "admin"], PermissionAction.WriteOnline, PermissionRules.FeatureView, "v", NoTags));
        Assert.False(PermissionRules.Allows(permissions, ["reader"], PermissionAction.WriteOnline, PermissionRules.FeatureView, "v", NoTags));
        Assert.False(PermissionRules.Allows(permissions, [], PermissionAction.WriteOnline, PermissionRules.FeatureView, "v", NoTags));
    }

    [Fact]
    public void What_no_permission_covers_is_refused_even_when_a_project_has_no_permissions()
    {
        // Unlike Feast, whose enforcer allows everything when no permission is defined
        // (sdk/python/feast/permissions/enforcer.py line 42, "if not permissions: return resources").
        foreach (var action in Enum.GetValues<PermissionAction>())
            Assert.False(PermissionRules.Allows([], ["admin"], action, PermissionRules.FeatureView, "v", NoTags));
    }

    [Fact]
    public async Task Permissions_are_applied_diffed_versioned_and_rolled_back_like_every_object()
    {
        var folder = Directory.CreateTempSubdirectory("granary-permissions-").FullName;
        try
        {
            await AppliedVersionsAsync(Path.Combine(folder, "repo"));
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task AppliedVersionsAsync(string repo)
    {
        Ok(await CliRunner.RunAsync("init", repo));
        Ok(await CliRunner.RunAsync("--repo", repo, "apply"));
        var file = Path.Combine(repo, "features", "permissions.yaml");
        File.WriteAllText(file, IssueExample);

        var plan = await CliRunner.RunAsync("--repo", repo, "plan");
        Ok(plan);
        Assert.Contains("permission", plan.Output);
        Assert.Contains("ranking-readers", plan.Output);
        Ok(await CliRunner.RunAsync("--repo", repo, "apply"));

        File.WriteAllText(file, IssueExample.Replace("[ranking-service]", "[ranking-service, fraud-service]"));
        var changed = await CliRunner.RunAsync("--repo", repo, "plan");
        Assert.Contains("roles: [ranking-service] -> [ranking-service, fraud-service]", changed.Output);
        Ok(await CliRunner.RunAsync("--repo", repo, "apply"));

        await using (var registry = await Cli.LocalRegistry.OpenAsync(repo, CancellationToken.None))
        {
            var latest = await registry.ReadAsync(null, CancellationToken.None);
            Assert.Equal(3, latest.Version);
            Assert.Equal(["ranking-service", "fraud-service"], Assert.Single(latest.Permissions).Roles);
            Assert.Equal(["ranking-service"], Assert.Single((await registry.ReadAsync(2, CancellationToken.None)).Permissions).Roles);
        }
        Ok(await CliRunner.RunAsync("--repo", repo, "registry", "rollback", "2"));
        await using (var registry = await Cli.LocalRegistry.OpenAsync(repo, CancellationToken.None))
            Assert.Equal(["ranking-service"], Assert.Single((await registry.ReadAsync(null, CancellationToken.None)).Permissions).Roles);
    }

    private static void Ok((int ExitCode, string Output) run) => Assert.True(run.ExitCode == 0, run.Output);
}
