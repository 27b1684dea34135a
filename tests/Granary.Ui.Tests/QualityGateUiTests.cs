using System.Text.Json;
using Granary.Definitions;
using Granary.Gateway;
using Granary.Testing;
using Microsoft.Playwright;

namespace Granary.Ui.Tests;

/// <summary>
/// A view with data rules and a quality gate whose first materialization passed and whose second was stopped by the gate
/// (a feature 50 % complete against 90 % asked).
/// </summary>
public sealed class GateServer : EmbeddedServerFixture
{
    public GateServer() : base("gate", "granary-ui-gate-")
    {
    }

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(new RegistrySnapshot
        {
            Project = Project,
            Entities = [new Entity { Name = "account", JoinKey = "account_id" }],
            DataSources = [new FileSource { Name = "scores_source", Path = "data/scores", TimestampField = "event_timestamp" }],
            FeatureViews =
            [
                new FeatureView
                {
                    Name = "scores", Entities = ["account"], Source = "scores_source",
                    QualityGate = new QualityGate { Completeness = 0.9 },
                    Features =
                    [
                        new Field("score", new(ScalarType.Float64)) { Rules = [new DataRule { Check = DataRuleCheck.Max, Bound = 1, OnBreak = DataRuleOutcome.Reject }] },
                        new Field("segment", new(ScalarType.String)) { Rules = [new DataRule { Check = DataRuleCheck.Allowed, Allowed = ["a", "b"], OnBreak = DataRuleOutcome.Quarantine }] },
                    ],
                },
            ],
        });
        var start = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
        await MaterializeAsync("scores", start, start.AddDays(1));
        Repository.WriteData(data => $"""
            COPY (SELECT CAST(i AS BIGINT) AS account_id, TIMESTAMPTZ '2024-05-02 00:00:00+00' AS event_timestamp, 0.2::DOUBLE AS score,
                         CASE WHEN i % 2 = 0 THEN NULL ELSE 'b' END AS segment FROM range(0, 20) t(i))
              TO '{data}/scores/v2.parquet' (FORMAT parquet);
            """);
        Failed = await Store.Grains.MaterializeAndWaitAsync(Project, "scores", start, start.AddDays(2));
    }

    /// <summary>The run the gate stopped.</summary>
    public Granary.Grains.Online.MaterializationStatus Failed { get; private set; } = null!;

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = 0;
    }

    protected override void WriteData(TestRepository repository)
        => repository.WriteData(data => $"""
            COPY (SELECT CAST(i AS BIGINT) AS account_id, TIMESTAMPTZ '2024-05-01 00:00:00+00' AS event_timestamp, 0.1::DOUBLE AS score, 'a' AS segment FROM range(0, 20) t(i))
              TO '{Directory.CreateDirectory(Path.Combine(data, "scores")).FullName}/v1.parquet' (FORMAT parquet);
            """);
}

/// <summary>The catalog (API and page) shows a view's rules, its gate, and the last gate result with its reason.</summary>
public sealed class QualityGateUiTests(GateServer server) : IClassFixture<GateServer>, IAsyncLifetime
{
    private HeadlessBrowser _browser = null!;

    public async Task InitializeAsync() => _browser = await HeadlessBrowser.StartAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private const string Reason = "quality gate of feature view 'scores' failed: feature 'segment' is 50 % complete (non-null) over the 20 rows to write; the view's quality_gate needs 90 % (completeness)";

    [Fact]
    public async Task The_api_gives_the_last_gate_result_per_view()
    {
        Assert.StartsWith(Reason, server.Failed.Error);
        using var response = await server.Http.GetAsync("/api/catalog/feature-views/scores");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var gate = json.RootElement.GetProperty("quality_gate");
        Assert.Equal(0.9, gate.GetProperty("completeness").GetDouble());
        Assert.Equal(["score.max", "segment.allowed"], gate.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("rule").GetString()));
        var last = gate.GetProperty("last_result");
        Assert.False(last.GetProperty("passed").GetBoolean());
        Assert.Equal(20, last.GetProperty("rows_read").GetInt64());
        Assert.Equal("segment", last.GetProperty("least_complete_feature").GetString());
        Assert.Equal("feature 'segment' is 50 % complete (non-null) over the 20 rows to write; the view's quality_gate needs 90 % (completeness)", last.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task The_view_page_shows_the_failed_gate_and_its_reason()
    {
        var page = _browser.Page;
        await page.GotoAsync(server.Gateway.WebUrl + "/ui#/view/scores");
        await Assertions.Expect(page.GetByTestId("view-name")).ToHaveTextAsync("scores");
        await Assertions.Expect(page.GetByTestId("quality-gate")).ToContainTextAsync("at least 90 %");
        await Assertions.Expect(page.GetByTestId("quality-gate")).ToContainTextAsync("max 1");
        await Assertions.Expect(page.GetByTestId("gate-result")).ToContainTextAsync("GATE FAILED");
        await Assertions.Expect(page.GetByTestId("gate-result")).ToContainTextAsync("20 rows read");
        await Assertions.Expect(page.GetByTestId("gate-reason")).ToContainTextAsync("feature 'segment' is 50 % complete");
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "screenshots", "view-quality-gate.png"), FullPage = true });
    }
}
