using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.Grains.Online;
using Granary.Grains.Push;
using Granary.Grains.Quality;
using Granary.Grains.Registry;
using Granary.Registry;
using Granary.Online;
using Granary.Push;

namespace Granary.Grains.Tests;

/// <summary>
/// Data rules on the push path of a three-silo cluster (SQLite registry holding the quarantine, SQLite online store, DuckDB
/// offline): 10,000 randomized rows (fixed seed), about 3 % breaking a reject rule, 3 % a quarantine rule and 3 % a warn
/// rule, end with exactly the valid and warned rows served and stored offline, the quarantined ones in the quarantine under
/// their rule, every refused batch naming the rule, the value and the row, and rule metrics that match an independent count.
/// </summary>
public abstract class DataRulePushTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Columns = ["account_id", "event_timestamp", "amount", "score", "country", "event_id"];
    private readonly string _root = Directory.CreateTempSubdirectory("granary-rules-").FullName;
    private readonly string _project = "r" + Guid.NewGuid().ToString("N")[..8];
    // Metric labels are registry names: a view name of its own keeps this run's series apart from any other test's.
    private readonly string _view = "payments_" + Guid.NewGuid().ToString("N")[..8];
    private ThreeSiloCluster _cluster = null!;

    /// <summary>The granary.yaml sections of the stores under test (online store, registry).</summary>
    protected abstract Task<string> StoresYamlAsync();

    public async Task InitializeAsync()
    {
        _cluster = await ThreeSiloCluster.StartAsync(_root, $"project: {_project}\n{await StoresYamlAsync()}");
        Directory.CreateDirectory(Path.Combine(_root, "data", "payments"));
        await _cluster.Grains.GetGrain<IRegistryGrain>(_project).ApplyAsync(new ApplyRequest(Definitions(_project, _view), ExpectedVersion: 0, Force: false));
    }

    public virtual async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>
    /// amount: not_null and min 0 reject; score: min 0 and max 1 quarantine; country: pattern [A-Z]{2} warn.
    /// </summary>
    internal static RegistrySnapshot Definitions(string project, string view) => new()
    {
        Project = project,
        Entities = [new Entity { Name = "account", JoinKey = "account_id" }],
        DataSources =
        [
            new FileSource { Name = "payments_batch", Path = "data/payments", TimestampField = "event_timestamp" },
            new PushSource { Name = "payments_push", BatchSource = "payments_batch" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = view, Entities = ["account"], Source = "payments_push",
                Features =
                [
                    new Field("amount", new(ScalarType.Float64)) { Rules =
                    [
                        new DataRule { Check = DataRuleCheck.NotNull, OnBreak = DataRuleOutcome.Reject },
                        new DataRule { Check = DataRuleCheck.Min, Bound = 0, OnBreak = DataRuleOutcome.Reject },
                    ] },
                    new Field("score", new(ScalarType.Float64)) { Rules =
                    [
                        new DataRule { Check = DataRuleCheck.Min, Bound = 0, OnBreak = DataRuleOutcome.Quarantine },
                        new DataRule { Check = DataRuleCheck.Max, Bound = 1, OnBreak = DataRuleOutcome.Quarantine },
                    ] },
                    new Field("country", new(ScalarType.String)) { Rules = [new DataRule { Check = DataRuleCheck.Pattern, Pattern = "[A-Z]{2}", OnBreak = DataRuleOutcome.Warn }] },
                ],
            },
        ],
    };

    private sealed record Generated(long Account, double? Amount, double Score, string Country)
    {
        public object?[] Row => [Account.ToString(CultureInfo.InvariantCulture), Day.AddMinutes(Account).ToString("O"),
            Amount?.ToString("R", CultureInfo.InvariantCulture), Score.ToString("R", CultureInfo.InvariantCulture), Country, $"ev-{Account}"];
    }

    // Each row breaks a kind of rule with probability 3 % each, independently (a row may break several kinds).
    private static List<Generated> Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<Generated>(count);
        for (var i = 0; i < count; i++)
        {
            double? amount = random.NextDouble() < 0.03 ? (random.Next(2) == 0 ? null : -random.NextDouble() * 100 - 0.01) : random.NextDouble() * 500;
            var score = random.NextDouble() < 0.03 ? (random.Next(2) == 0 ? 1 + random.NextDouble() + 1e-9 : -random.NextDouble() - 1e-9) : random.NextDouble();
            var country = random.NextDouble() < 0.03 ? (random.Next(2) == 0 ? "de" : "DEU") : random.Next(2) == 0 ? "DE" : "FR";
            rows.Add(new Generated(100_000 + i, amount, score, country));
        }
        return rows;
    }

    // The independent judgement: the rules as the definitions state them, written out.
    private static bool BreaksReject(Generated g) => g.Amount is null || g.Amount < 0;
    private static string? QuarantineRule(Generated g) => g.Score < 0 ? "score.min" : g.Score > 1 ? "score.max" : null;
    private static bool BreaksWarn(Generated g) => !Regex.IsMatch(g.Country, "^[A-Z]{2}$");

    [Fact]
    public async Task Ten_thousand_pushed_rows_end_with_exactly_the_valid_ones_served_and_the_rest_quarantined_or_refused()
    {
        var rows = Rows(10_000, seed: 22);
        var expectedRejected = rows.Where(BreaksReject).ToList();
        var expectedQuarantined = rows.Where(g => !BreaksReject(g) && QuarantineRule(g) is not null).ToList();
        var expectedWarned = rows.Where(g => !BreaksReject(g) && QuarantineRule(g) is null && BreaksWarn(g)).ToList();
        var expectedServed = rows.Where(g => !BreaksReject(g) && QuarantineRule(g) is null).ToList();
        // The seed gives every outcome a few hundred rows.
        Assert.InRange(expectedRejected.Count, 200, 400);
        Assert.InRange(expectedQuarantined.Count, 200, 400);
        Assert.InRange(expectedWarned.Count, 200, 400);

        int refusedBatches = 0, quarantined = 0, warned = 0, accepted = 0;
        var push = _cluster.Grains.GetGrain<IPushGrain>($"{_project}/payments_push");
        foreach (var batch in rows.Chunk(100))
        {
            var request = new PushRequest(Columns, batch.Select(g => g.Row).ToArray(), PushMode.OnlineAndOffline);
            var breaking = batch.Select((g, i) => (g, i)).Where(x => BreaksReject(x.g)).ToList();
            if (breaking.Count > 0)
            {
                // The whole batch is refused, naming the rule, the value and the row of each breaking row.
                var error = await Assert.ThrowsAsync<Granary.Quality.DataRuleViolationException>(() => push.PushAsync(request));
                refusedBatches++;
                Assert.Equal(breaking.Count, error.Errors.Count);
                foreach (var (g, i) in breaking)
                {
                    var rule = g.Amount is null ? "amount.not_null (not_null, reject)" : "amount.min (min 0, reject)";
                    Assert.Contains($"row {i + 1}: value {PushValues.Show(g.Amount)} of 'amount' breaks rule {rule} of feature view '{_view}'", error.Errors);
                }
                // The producer fixes the batch (drops the refused rows) and sends it again: nothing of the refused one was stored.
                request = new PushRequest(Columns, batch.Where(g => !BreaksReject(g)).Select(g => g.Row).ToArray(), PushMode.OnlineAndOffline);
            }
            var result = await push.PushAsync(request);
            Assert.Equal(0, result.DuplicatesDropped);
            quarantined += result.RowsQuarantined;
            warned += result.RowsWarned;
            accepted += result.RowsAccepted;
        }
        Assert.Equal(rows.Chunk(100).Count(b => b.Any(BreaksReject)), refusedBatches);
        Assert.Equal((expectedServed.Count, expectedQuarantined.Count, expectedWarned.Count), (accepted, quarantined, warned));

        // Online: exactly the valid and warned rows, on reads through the entity grains of every silo.
        var served = new System.Collections.Concurrent.ConcurrentBag<long>();
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (g, _) =>
        {
            var reply = await _cluster.Grains.GetGrain<IEntityGrain>(EntityKey.Create(_project, "account_id", g.Account.ToString(CultureInfo.InvariantCulture)).Canonical)
                .ReadAsync(new EntityReadRequest([_view], [["amount"]]));
            if ((FeatureStatus)reply.Statuses[0] == FeatureStatus.Present)
            {
                Assert.Equal(g.Amount, (double?)reply.Values[0]);
                served.Add(g.Account);
            }
        });
        Assert.Equal(expectedServed.Select(g => g.Account).Order(), served.Order());

        // Offline: the same rows, and none other.
        Assert.Equal(expectedServed.Select(g => g.Account).Order(), OfflineAccounts());

        // The quarantine: every quarantined row under its rule, with its values, and nothing else.
        var held = await _cluster.Grains.GetGrain<IQuarantineGrain>(_project).ListAsync(_view, 10_000);
        Assert.Equal(expectedQuarantined.Select(g => (g.Account, QuarantineRule(g)!)).Order(),
            held.Select(q => (long.Parse(Field(q.Row, "account_id"), CultureInfo.InvariantCulture), q.Rule)).Order());
        Assert.All(held, q => Assert.Equal("payments_push", q.Source));
        var sample = expectedQuarantined[0];
        Assert.Equal(sample.Score.ToString("R", CultureInfo.InvariantCulture), Field(held.Single(q => Field(q.Row, "account_id") == sample.Account.ToString(CultureInfo.InvariantCulture)).Row, "score"));

        // Metrics: per rule and per outcome, as an independent count of what each push decided.
        var metrics = CollectMetrics();
        Assert.Equal(expectedRejected.Count(g => g.Amount is null), metrics.GetValueOrDefault(("breaks", "amount.not_null", "reject")));
        Assert.Equal(expectedRejected.Count(g => g.Amount < 0), metrics.GetValueOrDefault(("breaks", "amount.min", "reject")));
        var stored = rows.Where(g => !BreaksReject(g)).ToList();
        Assert.Equal(stored.Count(g => g.Score < 0), metrics.GetValueOrDefault(("breaks", "score.min", "quarantine")));
        Assert.Equal(stored.Count(g => g.Score > 1), metrics.GetValueOrDefault(("breaks", "score.max", "quarantine")));
        Assert.Equal(stored.Count(BreaksWarn), metrics.GetValueOrDefault(("breaks", "country.pattern", "warn")));
        Assert.Equal(expectedRejected.Count, metrics.GetValueOrDefault(("rows", "", "reject")));
        Assert.Equal(expectedQuarantined.Count, metrics.GetValueOrDefault(("rows", "", "quarantine")));
        Assert.Equal(expectedWarned.Count, metrics.GetValueOrDefault(("rows", "", "warn")));
    }

    [Fact]
    public async Task A_released_row_is_written_past_the_rule_that_held_it_and_a_dropped_row_is_gone()
    {
        var push = _cluster.Grains.GetGrain<IPushGrain>($"{_project}/payments_push");
        var held = new Generated(7, 12.5, 1.5, "DE");
        var alsoHeld = new Generated(8, 3.0, -0.5, "FR");
        var result = await push.PushAsync(new PushRequest(Columns, [held.Row, alsoHeld.Row], PushMode.OnlineAndOffline));
        Assert.Equal((0, 2), (result.RowsAccepted, result.RowsQuarantined));
        var quarantine = _cluster.Grains.GetGrain<IQuarantineGrain>(_project);
        var entries = await quarantine.ListAsync(_view, 10);
        Assert.Equal(["score.max", "score.min"], entries.Select(e => e.Rule).Order());
        Assert.Equal(FeatureStatus.NotFound, await StatusAsync(7));

        var released = await quarantine.ReleaseAsync(entries.Single(e => e.Rule == "score.max").Id);
        Assert.Equal((1, 1L, false), (released.OnlineRowsApplied, released.OfflineRowsAppended, released.QuarantinedAgain));
        Assert.Equal(FeatureStatus.Present, await StatusAsync(7));
        Assert.True(await quarantine.DropAsync(entries.Single(e => e.Rule == "score.min").Id));
        Assert.Empty(await quarantine.ListAsync(_view, 10));
        Assert.Equal(FeatureStatus.NotFound, await StatusAsync(8));
        Assert.Equal([7L], OfflineAccounts());
    }

    private async Task<FeatureStatus> StatusAsync(long account)
    {
        var reply = await _cluster.Grains.GetGrain<IEntityGrain>(EntityKey.Create(_project, "account_id", account.ToString(CultureInfo.InvariantCulture)).Canonical)
            .ReadAsync(new EntityReadRequest([_view], [["amount"]]));
        return (FeatureStatus)reply.Statuses[0];
    }

    private static string Field(string json, string name)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty(name).GetString()!;
    }

    private List<long> OfflineAccounts()
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT account_id FROM read_parquet('{Path.Combine(_root, "data", "payments", "**", "*.parquet")}', union_by_name = true) ORDER BY account_id";
        using var reader = command.ExecuteReader();
        var result = new List<long>();
        while (reader.Read()) result.Add(reader.GetInt64(0));
        return result;
    }

    // The data-rule counters of this test's view, as an exporter collects them: (series, rule, outcome) -> total.
    private Dictionary<(string Series, string Rule, string Outcome), long> CollectMetrics()
    {
        var totals = new Dictionary<(string, string, string), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Granary" && instrument.Name.StartsWith("data_rule_", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string view = "", rule = "", outcome = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "feature_view") view = (string)tag.Value!;
                else if (tag.Key == "rule") rule = (string)tag.Value!;
                else if (tag.Key == "outcome") outcome = (string)tag.Value!;
            }
            if (view != _view) return;
            var series = instrument.Name == "data_rule_breaks_total" ? "breaks" : instrument.Name == "data_rule_rows_total" ? "rows" : instrument.Name;
            totals[(series, rule, outcome)] = totals.GetValueOrDefault((series, rule, outcome)) + value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return totals;
    }
}

/// <summary>The embedded default's stores: SQLite registry (and quarantine) and SQLite online store.</summary>
public sealed class SqliteDataRulePushTests : DataRulePushTests
{
    /// <inheritdoc/>
    protected override Task<string> StoresYamlAsync() => Task.FromResult("online_store:\n  type: sqlite\n  path: data/online.db\n");
}

/// <summary>A cluster's stores: Redis online store (GRANARY_TEST_REDIS) and a PostgreSQL registry holding the quarantine (a fresh database on GRANARY_TEST_POSTGRES).</summary>
public sealed class RedisPostgresDataRulePushTests : DataRulePushTests
{
    private readonly string _database = "granary_rules_" + Guid.NewGuid().ToString("N")[..12];
    private string Admin => Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES")
        ?? throw new InvalidOperationException("GRANARY_TEST_POSTGRES is not set: run eval \"$(deploy/test-services.sh env)\" first");

    /// <inheritdoc/>
    protected override async Task<string> StoresYamlAsync()
    {
        await using (var connection = new Npgsql.NpgsqlConnection(Admin))
        {
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE {_database}", connection);
            await command.ExecuteNonQueryAsync();
        }
        var registry = new Npgsql.NpgsqlConnectionStringBuilder(Admin) { Database = _database }.ConnectionString;
        var redis = Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379";
        return $"online_store:\n  type: redis\n  connection_string: {redis}\nregistry:\n  type: postgres\n  connection_string: \"{registry}\"\n";
    }

    /// <inheritdoc/>
    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var connection = new Npgsql.NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
