using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Registry.Sql;
using Granary.Repository;
using Granary.Transforms;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Registry.Tests;

/// <summary>The registry's behaviour, run against each store (SQLite file, real PostgreSQL).</summary>
public abstract class RegistryContractTests : IDisposable
{
    // xunit makes a new instance per test; a project per test keeps tests apart in a shared PostgreSQL database.
    protected string Project { get; } = "demo_" + Guid.NewGuid().ToString("N")[..8];
    private readonly TestRepository _repo = new();

    /// <summary>A new store over the same database (as a second process or silo would open it).</summary>
    protected abstract SqlRegistryStore OpenStore();

    protected RegistryService NewService()
    {
        var store = OpenStore();
        store.InitializeAsync().GetAwaiter().GetResult();
        return new RegistryService(store, new TransformCatalog(), TimeProvider.System);
    }

    protected RegistrySnapshot Sample() => _repo.Load().ToSnapshot();

    public virtual void Dispose() => _repo.Dispose();

    [Fact]
    public async Task First_apply_creates_version_1_and_an_unchanged_apply_creates_nothing()
    {
        var registry = NewService();
        var first = await registry.ApplyAsync(Project, new ApplyRequest(Sample(), ExpectedVersion: 0, Force: false));
        var again = await registry.ApplyAsync(Project, new ApplyRequest(Sample(), ExpectedVersion: 1, Force: false));

        Assert.Equal(1, first.Version);
        Assert.True(first.Created);
        Assert.Contains(first.Diff.Changes, c => c is { Kind: ObjectKind.FeatureView, Name: "driver_hourly_stats", Change: ChangeKind.Added });
        Assert.False(again.Created);
        Assert.Equal(1, again.Version);
        Assert.Single(await registry.GetHistoryAsync(Project));
        Assert.Equal(RegistryJson.DefinitionsOf(Sample()), RegistryJson.DefinitionsOf(await registry.GetLatestAsync(Project)));
    }

    [Fact]
    public async Task Plan_lists_changed_fields_of_a_changed_view()
    {
        var registry = NewService();
        await registry.ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        var changed = WithView(Sample(), "driver_hourly_stats", v => v with { Ttl = TimeSpan.FromHours(6), Features = [.. v.Features, new Field("rating", new ValueType(ScalarType.Float64))] });

        var plan = await registry.PlanAsync(Project, changed);

        Assert.Equal(1, plan.BaseVersion);
        var change = Assert.Single(plan.Diff.Changes);
        Assert.Equal((ObjectKind.FeatureView, "driver_hourly_stats", ChangeKind.Changed), (change.Kind, change.Name, change.Change));
        Assert.Contains(new FieldChange("ttl", "1d", "6h"), change.Fields);
        Assert.Contains(new FieldChange("features.rating.type", null, "Float64"), change.Fields);
        Assert.Empty(plan.Diff.BreakingChanges);
    }

    [Fact]
    public async Task Concurrent_applies_on_the_same_version_have_exactly_one_winner_and_lose_nothing()
    {
        await NewService().ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        // Eight writers, each with its own store (as separate processes would have), all planned against version 1.
        var candidates = Enumerable.Range(0, 8)
            .Select(i => WithView(Sample(), "customer_profile", v => v with { Description = $"candidate {i}" }))
            .ToList();
        var services = candidates.Select(_ => NewService()).ToList();

        var outcomes = await Task.WhenAll(candidates.Select((c, i) => Task.Run(async () =>
        {
            try { return (Result: (ApplyResult?)await services[i].ApplyAsync(Project, new ApplyRequest(c, 1, false)), Error: (Exception?)null); }
            catch (RegistryConflictException e) { return (Result: (ApplyResult?)null, Error: (Exception?)e); }
        })));

        var winners = outcomes.Where(o => o.Result is not null).ToList();
        Assert.Single(winners);
        Assert.Equal(2, winners[0].Result!.Version);
        Assert.All(outcomes.Where(o => o.Error is not null), o =>
            Assert.Equal($"registry of project '{Project}' is at version 2, not 1: another apply or rollback won; run plan again and re-apply", o.Error!.Message));
        // The stored version 2 is exactly the winner's definitions; version 1 is untouched.
        var latest = await NewService().GetLatestAsync(Project);
        Assert.Equal(2, latest.Version);
        var winnerIndex = outcomes.ToList().FindIndex(o => o.Result is not null);
        Assert.Equal(RegistryJson.DefinitionsOf(candidates[winnerIndex]), RegistryJson.DefinitionsOf(latest));
        Assert.Equal(RegistryJson.DefinitionsOf(Sample()), RegistryJson.DefinitionsOf(await NewService().GetVersionAsync(Project, 1)));
        Assert.Equal([1L, 2L], (await NewService().GetHistoryAsync(Project)).Select(h => h.Version));
    }

    [Fact]
    public async Task A_loser_that_replans_then_applies_keeps_the_winners_change()
    {
        var a = NewService();
        var b = NewService();
        await a.ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        await a.ApplyAsync(Project, new ApplyRequest(WithView(Sample(), "customer_profile", v => v with { Description = "by a" }), 1, false));
        await Assert.ThrowsAsync<RegistryConflictException>(() => b.ApplyAsync(Project, new ApplyRequest(Sample(), 1, false)));

        var latest = await b.GetLatestAsync(Project);
        var merged = WithView(latest, "driver_hourly_stats", v => v with { Description = "by b" });
        var result = await b.ApplyAsync(Project, new ApplyRequest(merged, latest.Version, false));

        var final = await a.GetLatestAsync(Project);
        Assert.Equal(3, result.Version);
        Assert.Equal("by a", final.FindFeatureView("customer_profile")!.Description);
        Assert.Equal("by b", final.FindFeatureView("driver_hourly_stats")!.Description);
    }

    [Fact]
    public async Task Removing_a_feature_a_service_uses_is_refused_then_allowed_with_force()
    {
        var registry = NewService();
        await registry.ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        var withoutAccRate = WithView(Sample(), "driver_hourly_stats", v => v with { Features = v.Features.Where(f => f.Name != "acc_rate").ToList() });
        // The service must stop listing it too, or validation would reject the repository; the break is for the service's users.
        withoutAccRate = withoutAccRate with
        {
            FeatureServices = withoutAccRate.FeatureServices.Select(s => s with
            {
                Projections = s.Projections.Select(p => p.View == "driver_hourly_stats" ? p with { Features = ["conv_rate"] } : p).ToList(),
            }).ToList(),
        };
        // Dropping it from the service is a deliberate service change, not a break...
        Assert.Empty((await registry.PlanAsync(Project, withoutAccRate)).Diff.BreakingChanges);

        // ...but changing the type of a feature the service still uses is.
        var retyped = WithView(Sample(), "driver_hourly_stats", v => v with
        {
            Features = v.Features.Select(f => f.Name == "conv_rate" ? f with { Type = new ValueType(ScalarType.String) } : f).ToList(),
        });
        var refused = await Assert.ThrowsAsync<BreakingChangeException>(() => registry.ApplyAsync(Project, new ApplyRequest(retyped, 1, Force: false)));
        Assert.Equal("feature service 'driver_activity_v1' uses driver_hourly_stats:conv_rate, which changes type from Float32 to String", refused.Changes.Single().ToString());
        Assert.Contains("--force", refused.Message);
        Assert.Equal(1, (await registry.GetLatestAsync(Project)).Version);

        var forced = await registry.ApplyAsync(Project, new ApplyRequest(retyped, 1, Force: true));
        Assert.Equal(2, forced.Version);
        Assert.Contains("forced past 1 breaking change", (await registry.GetHistoryAsync(Project))[^1].Summary);
    }

    [Fact]
    public async Task Removing_a_feature_of_a_view_a_service_uses_whole_is_breaking()
    {
        var registry = NewService();
        await registry.ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        // driver_activity_v1 projects customer_profile without a feature list: all its features.
        var removed = WithView(Sample(), "customer_profile", v => v with { Features = v.Features.Where(f => f.Name != "lifetime_trip_count").ToList() });

        var e = await Assert.ThrowsAsync<BreakingChangeException>(() => registry.ApplyAsync(Project, new ApplyRequest(removed, 1, false)));
        Assert.Equal("feature service 'driver_activity_v1' uses customer_profile:lifetime_trip_count, which is removed", e.Changes.Single().ToString());
    }

    [Fact]
    public async Task Rollback_creates_a_new_version_with_exactly_the_earlier_definitions()
    {
        var registry = NewService();
        var v1 = Sample();
        await registry.ApplyAsync(Project, new ApplyRequest(v1, 0, false));
        var v2 = WithView(Sample(), "driver_hourly_stats", v => v with { Ttl = TimeSpan.FromDays(3), Tags = new Dictionary<string, string> { ["team"] = "other" } }) with
        {
            TransformSources = new Dictionary<string, string> { ["transforms/conv_rate.cs"] = SampleRepository.TransformCode.Replace("convRate +", "convRate * 2 +", StringComparison.Ordinal) },
        };
        await registry.ApplyAsync(Project, new ApplyRequest(v2, 1, false));

        var rolledBack = await registry.RollbackAsync(Project, 1);

        Assert.Equal(3, rolledBack.Version);
        var latest = await registry.GetLatestAsync(Project);
        Assert.Equal(RegistryJson.DefinitionsOf(v1), RegistryJson.DefinitionsOf(latest));
        Assert.Equal(SampleRepository.TransformCode, latest.TransformSources["transforms/conv_rate.cs"]);
        Assert.Equal("rollback to version 1", (await registry.GetHistoryAsync(Project))[^1].Summary);
        // Version 2 is still there, immutable.
        Assert.Equal(RegistryJson.DefinitionsOf(v2), RegistryJson.DefinitionsOf(await registry.GetVersionAsync(Project, 2)));
    }

    [Fact]
    public async Task Rollback_to_a_missing_version_names_the_current_one()
    {
        var registry = NewService();
        await registry.ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        var e = await Assert.ThrowsAsync<RegistryNotFoundException>(() => registry.RollbackAsync(Project, 9));
        Assert.Equal($"project '{Project}' has no registry version 9; current version is 1", e.Message);
    }

    [Fact]
    public async Task Materialization_intervals_are_recorded_per_view_and_survive_new_versions()
    {
        var registry = NewService();
        await registry.ApplyAsync(Project, new ApplyRequest(Sample(), 0, false));
        var start = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        await registry.RecordMaterializationIntervalAsync(Project, "driver_hourly_stats", start, start.AddDays(1));
        await registry.RecordMaterializationIntervalAsync(Project, "driver_hourly_stats", start.AddDays(1), start.AddDays(2));
        await registry.ApplyAsync(Project, new ApplyRequest(WithView(Sample(), "customer_profile", v => v with { Description = "x" }), 1, false));

        var latest = await NewService().GetLatestAsync(Project);
        var intervals = latest.MaterializationIntervals["driver_hourly_stats"];
        Assert.Equal([(start, start.AddDays(1)), (start.AddDays(1), start.AddDays(2))], intervals.Select(i => (i.Start, i.End)));
        Assert.False(latest.MaterializationIntervals.ContainsKey("customer_profile"));
        await Assert.ThrowsAsync<RegistryNotFoundException>(() => registry.RecordMaterializationIntervalAsync(Project, "nope", start, start));
    }

    [Fact]
    public async Task Apply_with_a_transform_that_does_not_compile_is_refused()
    {
        var registry = NewService();
        var broken = Sample() with { TransformSources = new Dictionary<string, string> { ["transforms/conv_rate.cs"] = "class X : Granary.Definitions.IOnDemandTransform {}" } };
        var e = await Assert.ThrowsAsync<RegistryValidationException>(() => registry.ApplyAsync(Project, new ApplyRequest(broken, 0, false)));
        Assert.Contains("transforms/conv_rate.cs:1:", e.Message);
        Assert.Equal(0, (await registry.GetLatestAsync(Project)).Version);
    }

    [Fact]
    public async Task Apply_checks_references_itself_for_clients_other_than_the_cli()
    {
        var registry = NewService();
        var bad = WithView(Sample(), "driver_hourly_stats", v => v with { Entities = ["drivr"] });
        var e = await Assert.ThrowsAsync<RegistryValidationException>(() => registry.ApplyAsync(Project, new ApplyRequest(bad, 0, false)));
        Assert.Equal("apply: feature view 'driver_hourly_stats' references unknown entity 'drivr'; known: customer, driver", e.Message);
        Assert.Empty(await registry.GetHistoryAsync(Project));
    }

    [Fact]
    public async Task Projects_are_listed_once_each()
    {
        var registry = NewService();
        var (alpha, beta) = (Project + "_alpha", Project + "_beta");
        await registry.ApplyAsync(alpha, new ApplyRequest(Sample(), 0, false));
        await registry.ApplyAsync(beta, new ApplyRequest(Sample(), 0, false));
        await registry.ApplyAsync(beta, new ApplyRequest(WithView(Sample(), "customer_profile", v => v with { Description = "b" }), 1, false));

        var projects = await OpenStore().ListProjectsAsync();
        Assert.Contains(alpha, projects);
        Assert.Single(projects, p => p == beta);
    }

    protected static RegistrySnapshot WithView(RegistrySnapshot s, string name, Func<FeatureView, FeatureView> change)
        => s with { FeatureViews = s.FeatureViews.Select(v => v.Name == name ? change(v) : v).ToList() };
}

public sealed class SqliteRegistryTests : RegistryContractTests
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "granary-registry-tests", "sqlite-" + Guid.NewGuid().ToString("N"));

    protected override SqlRegistryStore OpenStore() => new SqliteRegistryStore(Path.Combine(_folder, "registry.db"));

    public override void Dispose()
    {
        base.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}

public sealed class PostgresRegistryTests(PostgresDatabase database) : RegistryContractTests, IClassFixture<PostgresDatabase>
{
    // A fresh database per class (the fixture); tests inside it use their own project names.
    protected override SqlRegistryStore OpenStore() => new PostgresRegistryStore(database.ConnectionString);
}
