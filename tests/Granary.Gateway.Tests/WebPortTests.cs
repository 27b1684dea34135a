using System.Net;
using Granary.Cli;
using Granary.Gateway.Catalog;

namespace Granary.Gateway.Tests;

/// <summary>
/// The browser-safe web port (<see cref="GatewayOptions.WebPort"/>): the same app as the REST port, so the UI, the catalog
/// JSON and Feast's REST API answer there; it can be turned off; bad values stop the start with a message naming the key.
/// </summary>
public sealed class WebPortTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    [Fact]
    public async Task The_ui_the_catalog_and_rest_answer_on_the_web_port()
    {
        Assert.NotNull(server.Gateway.WebUrl);
        Assert.NotEqual(new Uri(server.Gateway.RestUrl).Port, new Uri(server.Gateway.WebUrl!).Port);
        using var web = new HttpClient { BaseAddress = new Uri(server.Gateway.WebUrl!) };

        using var ui = await web.GetAsync(CatalogEndpoints.UiPath);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Equal("text/html", ui.Content.Headers.ContentType?.MediaType);

        using var search = await web.GetAsync("/api/catalog/search?q=driver");
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        Assert.Contains("driver_stats", await search.Content.ReadAsStringAsync());

        using var read = await web.PostAsync("/get-online-features", new StringContent(
            """{"features": ["driver_stats:trips"], "entities": {"driver_id": [1]}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Contains("\"PRESENT\"", await read.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_web_port_can_be_turned_off()
    {
        await using var gateway = await EmbeddedGateway.StartAsync(server.Store, o =>
        {
            o.RestPort = 0;
            o.GrpcPort = 0;
            o.WebPort = GatewayOptions.WebPortOff;
        });
        Assert.Null(gateway.WebUrl);
        using var http = new HttpClient { BaseAddress = new Uri(gateway.RestUrl) };
        using var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void The_default_web_port_is_feast_uis()
    {
        Assert.Equal(8888, new GatewayOptions().WebPort);
        Assert.Empty(Failures(new GatewayOptions { Project = "p" }));
        Assert.Empty(Failures(new GatewayOptions { Project = "p", RestPort = 0, GrpcPort = 0, WebPort = 0 }));
        Assert.Empty(Failures(new GatewayOptions { Project = "p", WebPort = GatewayOptions.WebPortOff }));
    }

    [Theory]
    [InlineData(6566, 6570, 6566, "Granary:Gateway:WebPort 6566 is also the RestPort; give the web endpoint its own port (default 8888), or -1 to turn it off")]
    [InlineData(6566, 6570, 6570, "Granary:Gateway:WebPort 6570 is also the GrpcPort; give the web endpoint its own port (default 8888), or -1 to turn it off")]
    [InlineData(6566, 6570, -2, "Granary:Gateway:WebPort is -2; give a port between 1 and 65535 (0 = any free port, -1 = off; default 8888)")]
    [InlineData(6566, 6570, 70000, "Granary:Gateway:WebPort is 70000; give a port between 1 and 65535 (0 = any free port, -1 = off; default 8888)")]
    public void A_bad_web_port_names_the_key_and_the_fix(int rest, int grpc, int web, string message)
    {
        Assert.Equal([message], Failures(new GatewayOptions { Project = "p", RestPort = rest, GrpcPort = grpc, WebPort = web }));
    }

    private static IEnumerable<string> Failures(GatewayOptions options)
        => new GatewayOptionsValidator().Validate(null, options).Failures ?? [];
}
