using System.Diagnostics;

namespace Granary.Gateway.Tests;

/// <summary>
/// Interop with an independent gRPC implementation: Node's @grpc/grpc-js + @grpc/proto-loader (pinned in interop/package.json
/// and its lock) load the gateway's own .proto files and call both services, a deadline and error statuses included.
/// Needs <c>npm ci --prefix tests/Granary.Gateway.Tests/interop</c> once (the test command runs it).
/// </summary>
public sealed class NodeInteropTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    [Fact]
    public async Task Node_grpc_js_calls_both_services_with_a_deadline_and_error_statuses()
    {
        var interop = Path.Combine(SourceRoot(), "tests", "Granary.Gateway.Tests", "interop");
        Assert.True(Directory.Exists(Path.Combine(interop, "node_modules", "@grpc", "grpc-js")),
            $"the Node client is not installed; run: npm ci --prefix {interop}");
        var protoRoot = Path.Combine(SourceRoot(), "contracts", "Granary.Contracts", "Protos");
        var address = new Uri(server.Gateway.GrpcUrl).Authority;
        var start = new ProcessStartInfo("node") { ArgumentList = { Path.Combine(interop, "interop.js"), address, protoRoot, server.Project }, RedirectStandardOutput = true, RedirectStandardError = true };
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        var text = await output + await errors;
        Assert.True(node.ExitCode == 0, text);
        foreach (var check in new[] { "ok feast.GetFeastServingInfo", "ok feast.GetOnlineFeatures:", "ok feast.GetOnlineFeatures error", "ok granary.ListRegistry",
                     "ok granary.GetOnlineFeatures\n", "ok granary.GetOnlineFeatures error: NOT_FOUND", "ok granary.WatchMaterialization deadline: DEADLINE_EXCEEDED",
                     "ok granary.GetHistoricalFeatures:", "ok granary.GetHistoricalFeatures error: INVALID_ARGUMENT",
                     "ok grpc.health.v1.Health: SERVING", "all ok" })
            Assert.Contains(check, text);
    }

    private static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props"))) return dir.FullName;
        throw new InvalidOperationException("no Directory.Packages.props above " + AppContext.BaseDirectory);
    }
}
