using System.Net;
using System.Text;
using Granary.Gateway.V1;
using Grpc.Core;

namespace Granary.Gateway.Tests.Security;

/// <summary>
/// File paths in requests stay inside the repository's data folder: a historical job's output_path (absolute outside,
/// <c>..</c> out of it, a symbolic link inside pointing out) and a drift baseline are refused with 400 / INVALID_ARGUMENT
/// naming the path and the folder, and nothing is written outside.
/// </summary>
public sealed class RequestPathTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    private string Data => Path.Combine(server.RepositoryRoot, "data");

    private async Task<RpcException> HistoricalAsync(string outputPath)
    {
        var granary = new V1.Granary.GranaryClient(server.Channel);
        var rows = new EntityRows();
        rows.Columns["driver_id"] = new Feast.Types.RepeatedValue { Val = { new Feast.Types.Value { Int64Val = 1 } } };
        rows.Columns["event_timestamp"] = new Feast.Types.RepeatedValue { Val = { new Feast.Types.Value { UnixTimestampVal = new DateTimeOffset(2024, 1, 2, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() } } };
        return await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = granary.GetHistoricalFeatures(new GetHistoricalFeaturesRequest { EntityRows = rows, Features = { "driver_stats:trips" }, OutputPath = outputPath },
                deadline: DateTime.UtcNow.AddMinutes(1));
            while (await call.ResponseStream.MoveNext()) { }
        });
    }

    [Fact]
    public async Task An_output_path_outside_the_data_folder_is_refused_naming_path_and_folder()
    {
        var outside = Path.Combine(Path.GetTempPath(), $"granary-escape-{Guid.NewGuid():N}", "out.parquet");
        var e = await HistoricalAsync(outside);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains($"'output_path' '{outside}'", e.Status.Detail);
        Assert.Contains(Data, e.Status.Detail);
        Assert.Contains("Granary:RequestFilesFolder", e.Status.Detail);
        Assert.False(Directory.Exists(Path.GetDirectoryName(outside)));
    }

    [Fact]
    public async Task Dot_dot_out_of_the_data_folder_is_refused()
    {
        var escaping = Path.Combine(Data, "..", "..", $"escaped-{Guid.NewGuid():N}.parquet");
        var e = await HistoricalAsync(escaping);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("outside the folder", e.Status.Detail);
        Assert.False(File.Exists(Path.GetFullPath(escaping)));
    }

    [Fact]
    public async Task A_symbolic_link_inside_the_data_folder_pointing_out_is_refused()
    {
        var target = Directory.CreateTempSubdirectory("granary-link-target-").FullName;
        var link = Path.Combine(Data, $"link-{Guid.NewGuid():N}");
        Directory.CreateSymbolicLink(link, target);
        var e = await HistoricalAsync(Path.Combine(link, "out.parquet"));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains($"resolves to '{Path.Combine(target, "out.parquet")}'", e.Status.Detail);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task A_drift_baseline_outside_the_data_folder_is_400_naming_it()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await server.Http.PostAsync("/drift", new StringContent("""{"baseline":"/etc/passwd"}""", Encoding.UTF8, "application/json"), cancel.Token);
        var body = await response.Content.ReadAsStringAsync(cancel.Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'baseline' '/etc/passwd'", body);
        Assert.Contains(Data, body);
    }
}
