using Granary.Testing;

namespace Granary.Gateway.Tests.Erasure;

/// <summary>The erasure server with authorization off, so the CLI can reach it without a credential in the environment.</summary>
public sealed class OpenErasureServer : ErasureServer
{
    protected override bool Authorization => false;
}

/// <summary><c>granary erase --server</c>: the CLI through a running gateway, after a push through it.</summary>
public sealed class EraseThroughServerTests(OpenErasureServer server) : IClassFixture<OpenErasureServer>
{
    [Fact]
    public async Task Erase_through_the_server_reports_each_place_and_the_entity_reads_not_found()
    {
        var url = server.Gateway.GrpcUrl;
        var rows = Path.Combine(server.RepositoryRoot, "erase-rows.json");
        await File.WriteAllTextAsync(rows, """[{"driver_id": 7340009, "event_timestamp": "2024-03-01T08:00:00Z", "speed": 12.25}]""");
        var push = await CliRunner.RunAsync("--repo", server.RepositoryRoot, "push", "speed_push", "--file", rows, "--to", "online_and_offline", "--server", url);
        Assert.True(push.ExitCode == 0, push.Output);

        var (code, output) = await CliRunner.RunAsync("--repo", server.RepositoryRoot, "erase", "--entity", "driver_id=7340009", "--server", url);

        Assert.True(code == 0, output);
        Assert.Contains("from 2 feature view(s)", output);
        Assert.Matches(@"offline_store\s*│\s*speed_batch\s*│\s*parquet data/speeds\s*│\s*1\s", output);
        Assert.Matches(@"upstream\s*│\s*trips_batch\s*│\s*parquet data/trips.parquet\s*│\s*erase upstream", output);
        Assert.Contains("Granary does not write trips_batch", output);
        var read = await CliRunner.RunAsync("--repo", server.RepositoryRoot, "get-online-features", "--features", "driver_speed:speed,driver_trips:trips",
            "--entity", "driver_id=7340009", "--server", url);
        Assert.True(read.ExitCode == 0, read.Output);
        Assert.DoesNotContain("12.25", read.Output);
        Assert.Equal(2, read.Output.Split("NOT_FOUND").Length - 1);
    }
}
