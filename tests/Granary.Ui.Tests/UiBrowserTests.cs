using Microsoft.Playwright;

namespace Granary.Ui.Tests;

/// <summary>
/// Granary's UI in Debian's chromium (headless, through Microsoft.Playwright; never Playwright's own browser download)
/// on the real server: search a feature and open its view; see a view turn STALE under an old materialization while a
/// fresh one is not; open the Orleans dashboard. Screenshots go to <c>screenshots/</c> under the test output.
/// </summary>
[Collection(CatalogServerCollection.Name)]
public sealed class UiBrowserTests(CatalogServer server) : IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private HeadlessBrowser _browser = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Screenshots);
        _browser = await HeadlessBrowser.StartAsync();
        _page = _browser.Page;
    }

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [Fact]
    public async Task Search_a_feature_and_open_its_view()
    {
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui");
        await Assertions.Expect(_page.GetByTestId("views-table")).ToContainTextAsync("driver_stats");
        await Screenshot("catalog-home");

        await _page.GetByTestId("search-input").FillAsync("acc_rate");
        await _page.GetByTestId("search-button").ClickAsync();
        var result = _page.GetByTestId("search-result");
        await Assertions.Expect(result).ToHaveCountAsync(1);
        await Assertions.Expect(result).ToContainTextAsync("feature");
        await Assertions.Expect(result).ToContainTextAsync("Float64");
        await Screenshot("catalog-search");

        await result.GetByRole(AriaRole.Link, new() { Name = "driver_stats" }).ClickAsync();
        await Assertions.Expect(_page.GetByTestId("view-name")).ToHaveTextAsync("driver_stats");
        await Assertions.Expect(_page.GetByTestId("schema")).ToContainTextAsync("acc_rate");
        await Assertions.Expect(_page.GetByTestId("used-by")).ToContainTextAsync("driver_ranker");
        await Assertions.Expect(_page.GetByTestId("history")).ToContainTextAsync("version 2");
        await Assertions.Expect(_page.GetByTestId("history")).ToContainTextAsync("freshness_sla");
        await Assertions.Expect(_page.GetByTestId("parity")).ToContainTextAsync("no check yet");
        await Assertions.Expect(_page.GetByTestId("drift")).ToContainTextAsync("no check yet");
        // Materialized up to now, SLA 1h: fresh, no stale banner.
        await Assertions.Expect(_page.Locator("h1").GetByTestId("freshness-badge")).ToHaveTextAsync("FRESH");
        await Assertions.Expect(_page.GetByTestId("stale-banner")).ToHaveCountAsync(0);
        await Assertions.Expect(_page.GetByTestId("last-run-state")).ToContainTextAsync("succeeded");
        await Screenshot("view-fresh", fullPage: true);
    }

    [Fact]
    public async Task A_view_turns_stale_under_an_old_materialization()
    {
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui/#/view/late_stats");
        await Assertions.Expect(_page.Locator("h1").GetByTestId("freshness-badge")).ToHaveTextAsync("NEVER MATERIALIZED");

        // Materialize a window that ended long ago through the gateway's REST API: its SLA is 30 minutes.
        using var response = await server.Http.PostAsync("/materialize", new StringContent(
            """{"start_ts":"2024-01-01T00:00:00Z","end_ts":"2024-01-03T00:00:00Z","feature_views":["late_stats"]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        await _page.ReloadAsync();
        await Assertions.Expect(_page.Locator("h1").GetByTestId("freshness-badge")).ToHaveTextAsync("STALE");
        await Assertions.Expect(_page.GetByTestId("stale-banner")).ToContainTextAsync("over the freshness SLA of 30m");
        await Assertions.Expect(_page.GetByTestId("stale-banner")).ToContainTextAsync("2024-01-03");
        await Screenshot("view-stale", fullPage: true);

        // The front page marks it too, next to a fresh one.
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui/");
        var table = _page.GetByTestId("views-table");
        await Assertions.Expect(table.Locator("tr", new() { HasText = "late_stats" }).GetByTestId("freshness-badge")).ToHaveTextAsync("STALE");
        await Assertions.Expect(table.Locator("tr", new() { HasText = "driver_stats" }).GetByTestId("freshness-badge")).ToHaveTextAsync("FRESH");
    }

    [Fact]
    public async Task The_orleans_dashboard_opens_from_the_ui_and_renders()
    {
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui/");
        var link = _page.GetByRole(AriaRole.Link, new() { Name = "Orleans dashboard" });
        await Assertions.Expect(link).ToHaveAttributeAsync("href", "/dashboard/");
        var popup = await _page.RunAndWaitForPopupAsync(() => link.ClickAsync());
        await popup.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.StartsWith(server.Gateway.WebUrl + "/dashboard", popup.Url);
        await Assertions.Expect(popup.Locator("body")).ToContainTextAsync("Silos");
        await popup.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "orleans-dashboard.png") });
    }

    /// <summary>
    /// The parity and drift panels render the feature-health endpoints' documented JSON. Those endpoints live in another
    /// part of the gateway (not in this branch), so the browser is handed their answers here; the catalog data is real.
    /// </summary>
    [Fact]
    public async Task Parity_and_drift_results_render_when_the_health_checks_have_run()
    {
        await _page.RouteAsync("**/api/health/parity", route => route.FulfillAsync(new()
        {
            Status = 200, ContentType = "application/json",
            Body = """{"views":[{"feature_view":"driver_stats","checked_at":"2026-12-01T10:00:00Z","parity_rate":0.995,"mismatches":[{"entity":"driver_id=7","feature":"trips","online":3,"offline":4}]}]}""",
        }));
        await _page.RouteAsync("**/api/health/drift", route => route.FulfillAsync(new()
        {
            Status = 200, ContentType = "application/json",
            Body = """{"views":[{"feature_view":"driver_stats","checked_at":"2026-12-01T10:05:00Z","features":[{"feature":"conv_rate","kind":"numeric","psi":0.31,"ks":0.22,"chi_square_p":null,"null_rate_difference":0.002,"drifted":true},{"feature":"trips","kind":"numeric","psi":0.01,"ks":0.03,"chi_square_p":null,"null_rate_difference":0.0,"drifted":false}]}]}""",
        }));
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui/#/view/driver_stats");
        var parity = _page.GetByTestId("parity");
        await Assertions.Expect(parity).ToContainTextAsync("99.50%");
        await Assertions.Expect(parity).ToContainTextAsync("driver_id=7");
        var drift = _page.GetByTestId("drift");
        await Assertions.Expect(drift.Locator("tr", new() { HasText = "conv_rate" })).ToContainTextAsync("DRIFTED");
        await Assertions.Expect(drift.Locator("tr", new() { HasText = "trips" })).ToContainTextAsync("ok");
        await Assertions.Expect(drift).ToContainTextAsync("0.310");
        await parity.ScrollIntoViewIfNeededAsync();
        await _page.Locator(".grid", new() { Has = parity }).ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "health-panels.png") });

        // Another view has no result in either answer: "no check yet".
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui/#/view/driver_daily");
        await Assertions.Expect(_page.GetByTestId("parity")).ToContainTextAsync("no check yet");
        await Assertions.Expect(_page.GetByTestId("drift")).ToContainTextAsync("no check yet");
    }

    private Task Screenshot(string name, bool fullPage = false)
        => _page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = fullPage });
}
