using System.Net;
using Granary.Core.Security;
using Granary.Definitions;
using Granary.Gateway;
using Granary.Testing;
using Microsoft.Playwright;

namespace Granary.Ui.Tests;

/// <summary>
/// A gateway with authorization on: two views, of which the role <c>viewer</c> may DESCRIBE only <c>driver_stats</c>,
/// and an API key for that role made with the CLI.
/// </summary>
public sealed class SecuredCatalogServer : EmbeddedServerFixture
{
    public SecuredCatalogServer() : base("uiauth", "granary-uiauth-")
    {
    }

    /// <summary>The viewer's API key.</summary>
    public string ViewerKey { get; private set; } = "";

    protected override void WriteData(TestRepository repository)
        => repository.WriteData(data => $"""
            COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-02 10:00:00+00' AS event_timestamp, 0.5::DOUBLE AS conv_rate)
              TO '{data}/drivers.parquet' (FORMAT parquet);
            """);

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(new RegistrySnapshot
        {
            Project = Project,
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" }],
            FeatureViews =
            [
                new FeatureView { Name = "driver_stats", Entities = ["driver"], Source = "drivers", Features = [new Field("conv_rate", new(ScalarType.Float64))] },
                new FeatureView { Name = "vault_stats", Entities = ["driver"], Source = "drivers", Features = [new Field("conv_rate", new(ScalarType.Float64))] },
            ],
            Permissions =
            [
                new Permission { Name = "viewers", Types = [PermissionRules.FeatureView], NamePatterns = ["driver_.*"], Actions = [PermissionAction.Describe], Roles = ["viewer"] },
            ],
        }, expectedVersion: 0);
        ViewerKey = await CliRunner.CreateApiKeyAsync(RepositoryRoot, "ui-viewer", "viewer");
    }

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = 0;
        o.Security.Authorization = true;
    }
}

/// <summary>
/// The catalog UI behind authorization, in Debian's chromium: the page itself loads without credentials (it holds no
/// data), asks for an API key, shows only what the key's principal may describe, says when a key is refused, and forgets
/// the key on sign-out. The catalog's JSON stays refused without credentials.
/// </summary>
public sealed class UiSignInTests(SecuredCatalogServer server) : IClassFixture<SecuredCatalogServer>, IAsyncLifetime
{
    private HeadlessBrowser _browser = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _browser = await HeadlessBrowser.StartAsync();
        _page = _browser.Page;
    }

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [Fact]
    public async Task The_page_asks_for_a_key_then_shows_only_what_its_principal_may_describe()
    {
        await _page.GotoAsync(server.Gateway.WebUrl + "/ui/");
        await Assertions.Expect(_page.GetByTestId("sign-in")).ToBeVisibleAsync();
        await Assertions.Expect(_page.GetByTestId("sign-in-error")).ToHaveCountAsync(0);

        await _page.GetByTestId("sign-in-token").FillAsync("gk_0123456789ab_" + new string('x', 43));
        await _page.GetByTestId("sign-in-button").ClickAsync();
        await Assertions.Expect(_page.GetByTestId("sign-in-error")).ToContainTextAsync("refused");

        await _page.GetByTestId("sign-in-token").FillAsync(server.ViewerKey);
        await _page.GetByTestId("sign-in-button").ClickAsync();
        await Assertions.Expect(_page.GetByTestId("views-table")).ToContainTextAsync("driver_stats");
        await Assertions.Expect(_page.GetByTestId("views-table")).Not.ToContainTextAsync("vault_stats");
        // The page never shows the key it holds.
        Assert.DoesNotContain(server.ViewerKey, await _page.ContentAsync());

        await _page.GetByTestId("sign-out").ClickAsync();
        await Assertions.Expect(_page.GetByTestId("sign-in")).ToBeVisibleAsync();
        Assert.Null(await _page.EvaluateAsync<string?>("() => sessionStorage.getItem('granary.token')"));
    }

    [Fact]
    public async Task The_pages_files_are_open_and_its_data_is_not()
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Gateway.WebUrl!), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ui/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/catalog/feature-views")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard/")).StatusCode);
        // A path that only starts like the UI's is not opened by it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/uix")).StatusCode);
    }
}
