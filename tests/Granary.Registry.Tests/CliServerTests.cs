using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Granary.Cli;
using Granary.Gateway;
using Granary.Hosting;

namespace Granary.Registry.Tests;

/// <summary>
/// <c>granary get-online-features --server</c> and <c>granary push --server</c> against a real gateway over the sample
/// repository: the same arguments print what the embedded form prints; an unreachable server is an error naming its URL.
/// </summary>
/// <remarks>
/// The embedded runs happen first, in <see cref="InitializeAsync"/>, before the server's own silo opens the repository's
/// stores; then the server starts and every test talks to it.
/// </remarks>
public sealed class CliServerTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-cli-server-").FullName;
    private string Repo => Path.Combine(_folder, "repo");
    private EmbeddedFeatureStore? _store;
    private EmbeddedGateway? _gateway;

    private (int ExitCode, string Output) _embeddedTable, _embeddedJson, _embeddedService, _embeddedPush, _embeddedBadPush;

    private static readonly string[] ReadArgs =
        ["get-online-features", "--features", "driver_hourly_stats:conv_rate,driver_hourly_stats:avg_daily_trips", "--entity", "driver_id=1001", "--entity", "driver_id=9999"];

    private string Url => _gateway!.GrpcUrl;

    public async Task InitializeAsync()
    {
        Ok(await CliRunner.RunAsync("init", Repo));
        Ok(await CliRunner.RunAsync("--repo", Repo, "apply"));
        Ok(await CliRunner.RunAsync("--repo", Repo, "materialize-incremental", "now"));
        _embeddedTable = await CliRunner.RunAsync(["--repo", Repo, .. ReadArgs]);
        _embeddedJson = await CliRunner.RunAsync(["--repo", Repo, .. ReadArgs, "--json"]);
        _embeddedService = await CliRunner.RunAsync("--repo", Repo, "get-online-features", "--service", "driver_activity_v1", "--entity", "driver_id=1002,customer_id=201,val_to_add=1,val_to_add_2=2", "--full-feature-names");
        _embeddedPush = await CliRunner.RunAsync("--repo", Repo, "push", "driver_stats_push", "--file", PushFile("embedded.csv", 1001, 0.25));
        _embeddedBadPush = await CliRunner.RunAsync("--repo", Repo, "push", "driver_stats_push", "--file", BadLastRowFile(), "--batch-rows", "1");

        _store = await EmbeddedFeatureStore.StartAsync(Repo);
        _gateway = await EmbeddedGateway.StartAsync(_store, o => { o.Security.Authorization = false; o.RestPort = 0; o.GrpcPort = 0; o.WebPort = GatewayOptions.WebPortOff; });
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null) await _gateway.DisposeAsync();
        if (_store is not null) await _store.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static void Ok((int ExitCode, string Output) run) => Assert.True(run.ExitCode == 0, run.Output);

    /// <summary>A push file of one row for <paramref name="driver"/> at the current second.</summary>
    private string PushFile(string name, long driver, double rate)
    {
        var path = Path.Combine(_folder, name);
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        File.WriteAllText(path, $"driver_id,event_timestamp,created,conv_rate,acc_rate\n{driver},{now},{now},{rate.ToString(CultureInfo.InvariantCulture)},0.5\n");
        return path;
    }

    [Fact]
    public async Task Get_online_features_through_the_server_prints_what_the_embedded_form_prints()
    {
        Ok(_embeddedTable);
        Assert.Contains("NOT_FOUND", _embeddedTable.Output);   // driver 9999 has no row: statuses show in both forms
        var table = await CliRunner.RunAsync([.. ReadArgs, "--server", Url]);
        Ok(table);
        Assert.Equal(_embeddedTable.Output, table.Output);

        var json = await CliRunner.RunAsync([.. ReadArgs, "--json", "--server", Url]);
        Ok(json);
        Assert.Equal(_embeddedJson.Output, json.Output);
    }

    [Fact]
    public async Task A_feature_service_with_request_data_reads_the_same_through_the_server()
    {
        Ok(_embeddedService);
        var served = await CliRunner.RunAsync("get-online-features", "--service", "driver_activity_v1", "--entity", "driver_id=1002,customer_id=201,val_to_add=1,val_to_add_2=2",
            "--full-feature-names", "--server", Url);
        Ok(served);
        Assert.Equal(_embeddedService.Output, served.Output);
    }

    [Fact]
    public async Task Push_through_the_server_prints_what_the_embedded_form_prints_and_the_row_is_served()
    {
        Ok(_embeddedPush);
        var pushed = await CliRunner.RunAsync("push", "driver_stats_push", "--file", PushFile("server.csv", 1003, 0.75), "--server", Url);
        Ok(pushed);
        Assert.Equal(_embeddedPush.Output, pushed.Output);
        Assert.Contains("Pushed 1 of 1 rows to driver_stats_push (online)", pushed.Output);

        var read = await CliRunner.RunAsync("get-online-features", "--features", "driver_stats_fresh:conv_rate", "--entity", "driver_id=1003", "--json", "--server", Url);
        Ok(read);
        Assert.Contains("0.75", read.Output);
    }

    /// <summary>Two good rows (drivers 2005 and 2006, unknown to the sample data), then a third whose conv_rate is not a number.</summary>
    private string BadLastRowFile()
    {
        var path = Path.Combine(_folder, "bad-last-row.csv");
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        File.WriteAllText(path, $"driver_id,event_timestamp,created,conv_rate,acc_rate\n2005,{now},{now},0.5,0.5\n2006,{now},{now},0.6,0.5\n2007,{now},{now},fast,0.5\n");
        return path;
    }

    [Fact]
    public async Task Push_through_the_server_checks_the_whole_file_before_sending_any_batch()
    {
        // One row per batch: without the up-front check the first two batches would be stored before the third is refused.
        var pushed = await CliRunner.RunAsync("push", "driver_stats_push", "--file", BadLastRowFile(), "--batch-rows", "1", "--server", Url);
        Assert.Equal(1, pushed.ExitCode);
        Assert.Contains("row 3, column 'conv_rate': value 'fast'", pushed.Output);
        Assert.Equal(1, _embeddedBadPush.ExitCode);
        Assert.Equal(_embeddedBadPush.Output, pushed.Output);

        // Nothing of the file reached the store: the two good rows are not served.
        var read = await CliRunner.RunAsync("get-online-features", "--features", "driver_hourly_stats:conv_rate", "--entity", "driver_id=2005", "--entity", "driver_id=2006", "--json", "--server", Url);
        Ok(read);
        using var json = System.Text.Json.JsonDocument.Parse(read.Output);
        var names = json.RootElement.GetProperty("metadata").GetProperty("feature_names").EnumerateArray().Select(n => n.GetString()).ToList();
        var statuses = json.RootElement.GetProperty("results")[names.IndexOf("conv_rate")].GetProperty("statuses").EnumerateArray().Select(v => v.GetString());
        Assert.Equal(["NOT_FOUND", "NOT_FOUND"], statuses);
    }

    [Fact]
    public async Task An_unreachable_server_is_an_error_naming_its_url()
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var read = await CliRunner.RunAsync([.. ReadArgs, "--server", url]);
        Assert.Equal(1, read.ExitCode);
        Assert.Contains($"the Granary server at {url} is unavailable", read.Output);
        Assert.Contains("granary serve", read.Output);

        var push = await CliRunner.RunAsync("push", "driver_stats_push", "--file", PushFile("nowhere.csv", 1001, 0.5), "--server", url);
        Assert.Equal(1, push.ExitCode);
        Assert.Contains($"the Granary server at {url} is unavailable", push.Output);
    }

    [Fact]
    public async Task The_servers_refusals_reach_the_user_with_its_message()
    {
        var unknown = await CliRunner.RunAsync("get-online-features", "--features", "driver_hourly_stats:nope", "--entity", "driver_id=1001", "--server", Url);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("has no feature 'nope'", unknown.Output);

        var badKey = await CliRunner.RunAsync("get-online-features", "--features", "driver_hourly_stats:conv_rate", "--entity", "driver_id=abc", "--server", Url);
        Assert.Equal(1, badKey.ExitCode);
        Assert.Contains("driver_id", badKey.Output);

        var badFile = Path.Combine(_folder, "bad.csv");
        await File.WriteAllTextAsync(badFile, "driver_id,event_timestamp,created,conv_rate,acc_rate\n1001,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,fast,0.5\n");
        var badPush = await CliRunner.RunAsync("push", "driver_stats_push", "--file", badFile, "--server", Url);
        Assert.Equal(1, badPush.ExitCode);
        Assert.Contains("fast", badPush.Output);

        var badUrl = await CliRunner.RunAsync([.. ReadArgs, "--server", "127.0.0.1:6570"]);
        Assert.Equal(1, badUrl.ExitCode);
        Assert.Contains("--server '127.0.0.1:6570' is not an http:// or https:// address", badUrl.Output);
    }

    private static int FreePort() => Granary.Testing.FreePorts.One();
}
