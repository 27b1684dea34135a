using System.Globalization;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Quality;
using Granary.Grains.Registry;
using Granary.Online;
using Granary.Registry;

namespace Granary.Grains.Tests;

/// <summary>
/// The quality gate and data rules on materialization, on a three-silo cluster: a run below its completeness gate fails
/// as a whole before writing, so the values served before stay; a run within its gate drops rows breaking reject rules,
/// quarantines rows breaking quarantine rules (releasable), and records the gate result the catalog shows.
/// </summary>
public sealed class DataRuleMaterializationTests : IAsyncLifetime
{
    private static readonly DateTimeOffset First = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
    private const int Accounts = 200;
    private readonly string _root = Directory.CreateTempSubdirectory("granary-gate-").FullName;
    private readonly string _project = "g" + Guid.NewGuid().ToString("N")[..8];
    private ThreeSiloCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ThreeSiloCluster.StartAsync(_root, $"project: {_project}\nonline_store:\n  type: sqlite\n  path: data/online.db\n");
        Directory.CreateDirectory(Path.Combine(_root, "data", "scores"));
        await _cluster.Grains.GetGrain<IRegistryGrain>(_project).ApplyAsync(new ApplyRequest(new RegistrySnapshot
        {
            Project = _project,
            Entities = [new Entity { Name = "account", JoinKey = "account_id" }],
            DataSources = [new FileSource { Name = "scores_source", Path = "data/scores", TimestampField = "event_timestamp" }],
            FeatureViews =
            [
                new FeatureView
                {
                    Name = "scores", Entities = ["account"], Source = "scores_source",
                    QualityGate = new QualityGate { Completeness = 0.9, MaxRejectedShare = 0.02 },
                    Features =
                    [
                        new Field("score", new(ScalarType.Float64)) { Rules = [new DataRule { Check = DataRuleCheck.Max, Bound = 1, OnBreak = DataRuleOutcome.Reject }] },
                        new Field("segment", new(ScalarType.String)) { Rules = [new DataRule { Check = DataRuleCheck.Allowed, Allowed = ["a", "b"], OnBreak = DataRuleOutcome.Quarantine }] },
                    ],
                },
            ],
        }, ExpectedVersion: 0, Force: false));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_run_below_its_completeness_gate_fails_and_leaves_the_previous_values_served()
    {
        // Run 1: every row complete and within the rules.
        WriteScores("v1", First, score: "0.1", segment: "'a'");
        var first = await MaterializeAsync(First.AddDays(-1), First.AddDays(1));
        Assert.Equal(MaterializationRunState.Succeeded, first.State);
        Assert.Equal((true, Accounts, 0L), (first.QualityGate!.Passed, first.QualityGate.RowsRead, first.QualityGate.RowsRejected));
        Assert.Equal(0.1, await ScoreAsync(5));

        // Run 2: newer rows, but 30 % of them have no segment: 70 % complete, under the 90 % gate.
        var second = First.AddDays(1);
        WriteScores("v2", second, score: "0.2", segment: "CASE WHEN i % 10 < 3 THEN NULL ELSE 'b' END");
        var failed = await MaterializeAsync(First.AddDays(-1), second.AddDays(1));
        Assert.Equal(MaterializationRunState.Failed, failed.State);
        Assert.Equal($"quality gate of feature view 'scores' failed: feature 'segment' is 70 % complete (non-null) over the {Accounts} rows to write; the view's quality_gate needs 90 % (completeness); nothing was written online, the values served before stay",
            failed.Error);
        Assert.Equal((false, "segment", 0.7), (failed.QualityGate!.Passed, failed.QualityGate.LeastCompleteFeature, failed.QualityGate.Completeness));
        Assert.Equal(0L, failed.RowsWritten);
        // Every account still serves run 1's value, on every silo.
        for (var account = 0; account < Accounts; account += 7) Assert.Equal(0.1, await ScoreAsync(account));
    }

    [Fact]
    public async Task A_run_within_its_gate_drops_rejected_rows_and_quarantines_the_held_ones()
    {
        WriteScores("v1", First, score: "0.1", segment: "'a'");
        Assert.Equal(MaterializationRunState.Succeeded, (await MaterializeAsync(First.AddDays(-1), First.AddDays(1))).State);

        // Run 2: accounts 3 and 4 break the reject rule (1 % of rows, within the 2 % allowed); account 9 an allowed-values rule.
        var second = First.AddDays(1);
        WriteScores("v2", second, score: "CASE WHEN i IN (3, 4) THEN 7.5 ELSE 0.2 END", segment: "CASE WHEN i = 9 THEN 'zzz' ELSE 'b' END");
        var run = await MaterializeAsync(First.AddDays(-1), second.AddDays(1));
        Assert.Equal(MaterializationRunState.Succeeded, run.State);
        Assert.Equal((true, 2L, 1L), (run.QualityGate!.Passed, run.QualityGate.RowsRejected, run.QualityGate.RowsQuarantined));
        Assert.Equal(Accounts - 3, run.RowsWritten);
        Assert.Equal(0.1, await ScoreAsync(3)); // dropped: the earlier value stays
        Assert.Equal(0.1, await ScoreAsync(9)); // quarantined: not served
        Assert.Equal(0.2, await ScoreAsync(10));

        var quarantine = _cluster.Grains.GetGrain<IQuarantineGrain>(_project);
        var held = Assert.Single(await quarantine.ListAsync("scores", 10));
        Assert.Equal(("segment.allowed", "materialization"), (held.Rule, held.Source));
        Assert.Contains("\"account_id\":\"9\"", held.Row);
        var released = await quarantine.ReleaseAsync(held.Id);
        Assert.Equal(1, released.OnlineRowsApplied);
        Assert.Equal(0.2, await ScoreAsync(9));
        Assert.Empty(await quarantine.ListAsync("scores", 10));
    }

    private async Task<MaterializationStatus> MaterializeAsync(DateTimeOffset start, DateTimeOffset end)
    {
        var grain = _cluster.Grains.GetGrain<IMaterializationGrain>($"{_project}/scores");
        var status = await grain.StartAsync(start, end, incremental: false);
        await Until.HoldsAsync(async () => (status = await grain.GetStatusAsync()).IsFinished, "the materialization to finish", TimeSpan.FromMinutes(2));
        return status;
    }

    private async Task<double?> ScoreAsync(int account)
    {
        var reply = await _cluster.Grains.GetGrain<IEntityGrain>(EntityKey.Create(_project, "account_id", account.ToString(CultureInfo.InvariantCulture)).Canonical)
            .ReadAsync(new EntityReadRequest(["scores"], [["score"]]));
        return reply.Values[0] as double?;
    }

    // One Parquet file of the source folder: accounts 0..199 at `at`, with the SQL expressions (over i) for each feature.
    private void WriteScores(string file, DateTimeOffset at, string score, string segment)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SET TimeZone = 'UTC';
            COPY (SELECT CAST(i AS BIGINT) AS account_id, TIMESTAMPTZ '{at:yyyy-MM-dd HH:mm:ss}+00' AS event_timestamp,
                         CAST({score} AS DOUBLE) AS score, CAST({segment} AS VARCHAR) AS segment FROM range(0, {Accounts}) t(i))
            TO '{Path.Combine(_root, "data", "scores", file + ".parquet")}' (FORMAT parquet);
            """;
        command.ExecuteNonQuery();
    }
}
