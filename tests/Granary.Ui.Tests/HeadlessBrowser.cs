using Microsoft.Playwright;

namespace Granary.Ui.Tests;

/// <summary>
/// Debian's chromium, headless, driven through Microsoft.Playwright (never Playwright's own browser download), with one
/// page whose waits allow a loaded two-core machine. One per test class instance.
/// </summary>
public sealed class HeadlessBrowser : IAsyncDisposable
{
    /// <summary>Debian's chromium.</summary>
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessBrowser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    /// <summary>The page tests drive.</summary>
    public IPage Page { get; }

    /// <summary>Starts the browser and opens a 1300 x 1000 page.</summary>
    public static async Task<HeadlessBrowser> StartAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1300, Height = 1000 } });
        page.SetDefaultTimeout(60_000); // a loaded two-core machine; these are waits for the page, not timing limits
        return new HeadlessBrowser(playwright, browser, page);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
